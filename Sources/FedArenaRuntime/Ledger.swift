import Crypto
import FedArenaCore
import FedArenaReports
import Foundation

/// The hash-chained record of every round's decisions (`ledger.jsonl`).
///
/// Each line is a JSON object with the round's decisions (accepted, rejected and dropped
/// clients with reasons, the rule and its weights, detection scores and actions when detectors
/// run, the SHA-256 of the model after the round) and `previous`, the hash of the line before
/// (64 zeros for the first). The line ends with `"hash"`: the SHA-256 (hex) of the line's bytes
/// up to that field, closed by `}`. Changing, removing or reordering any line breaks the chain,
/// which ``verify(path:)`` (`fedarena verify-ledger RUN_DIR`) detects.
public final class Ledger: @unchecked Sendable {
    /// The hash that precedes the first entry.
    public static let genesis = String(repeating: "0", count: 64)

    /// The ledger file.
    public let path: String
    private let handle: FileHandle
    private var previous = Ledger.genesis
    private let lock = NSLock()

    /// Creates (or truncates) the ledger file.
    /// - Throws: ``RuntimeError`` `.output` naming the file.
    public init(path: String) throws(RuntimeError) {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw RuntimeError(.output, "cannot create the ledger \(path)")
        }
        self.handle = handle
        self.path = path
    }

    /// Continues an existing ledger after its first `entries` lines (a resumed run): later
    /// lines (a round the checkpoint does not cover) are cut, the kept chain is verified, and
    /// its last hash must be `head`.
    /// - Throws: ``RuntimeError`` `.output` naming the file when it cannot be read, does not
    ///   verify, or does not end at `head`.
    public init(resuming path: String, keepingEntries entries: Int, head: String) throws(RuntimeError) {
        do {
            try JSONLinesFile.truncate(path, toLines: entries, what: "the ledger")
        } catch {
            throw RuntimeError(.output, "cannot resume: \(error)")
        }
        let verification = try Self.verify(path: path)
        if let problem = verification.problem {
            throw RuntimeError(.output, "cannot resume: \(path) does not verify: \(problem)")
        }
        guard verification.entries == entries else {
            throw RuntimeError(.output, "cannot resume: \(path) holds \(verification.entries) entries, the checkpoint covers \(entries)")
        }
        guard verification.head == head else {
            throw RuntimeError(.output, "cannot resume: the last entry of \(path) (\(verification.head.prefix(12))…) is not the checkpoint's ledger head (\(head.prefix(12))…)")
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw RuntimeError(.output, "cannot open \(path) to append")
        }
        do {
            try handle.seekToEnd()
        } catch {
            throw RuntimeError(.output, "cannot append to \(path): \(error)")
        }
        self.handle = handle
        self.path = path
        self.previous = head
    }

    /// The hash of the last entry written (``genesis`` before the first).
    public var head: String {
        lock.lock()
        defer { lock.unlock() }
        return previous
    }

    deinit { try? handle.close() }

    /// Appends one entry, chained to the previous one.
    /// - Parameter entry: the round's decisions (`previous` and `hash` are added).
    /// - Returns: the entry's hash.
    /// - Throws: ``RuntimeError`` `.output` naming the ledger when the entry cannot be written.
    @discardableResult
    public func append(_ entry: LedgerEntry) throws(RuntimeError) -> String {
        lock.lock()
        defer { lock.unlock() }
        let body: String
        do {
            body = try RunRecords.line(Chained(entry: entry, previous: previous))
        } catch {
            throw RuntimeError(.output, "cannot encode ledger entry \(entry.round) for \(path): \(error)")
        }
        let hash = Self.hash(of: body)
        let line = String(body.dropLast()) + ",\"hash\":\"\(hash)\"}\n"
        do {
            try handle.write(contentsOf: Data(line.utf8))
        } catch {
            throw RuntimeError(.output, "cannot append to the ledger \(path): \(error)")
        }
        previous = hash
        return hash
    }

    /// An entry with its link to the line before; the entry's keys and `previous`, sorted,
    /// are the bytes the hash covers.
    private struct Chained: Encodable {
        var entry: LedgerEntry
        var previous: String

        func encode(to encoder: any Encoder) throws {
            try entry.encode(to: encoder)
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(previous, forKey: .previous)
        }

        enum Key: String, CodingKey { case previous }
    }

    /// The SHA-256 (hex) of a line's body (the JSON object without its `hash` field).
    static func hash(of body: String) -> String {
        SHA256.hash(data: Data(body.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The outcome of checking a ledger.
    public struct Verification: Sendable, Equatable {
        /// Entries checked.
        public var entries: Int
        /// The first problem, or `nil` when the chain is intact.
        public var problem: String?
        /// The hash of the last verified entry (``Ledger/genesis`` for an empty ledger).
        public var head: String = Ledger.genesis
    }

    /// Checks every line's hash and the chain of `previous` links.
    /// - Parameter path: the `ledger.jsonl` file.
    /// - Returns: how many entries were checked and the first broken link, naming the line.
    /// - Throws: ``RuntimeError`` `.output` when the file cannot be read.
    public static func verify(path: String) throws(RuntimeError) -> Verification {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw RuntimeError(.output, "cannot read \(path): \(error)")
        }
        var previous = genesis
        var count = 0
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            let number = index + 1
            guard let marker = line.range(of: ",\"hash\":\"", options: .backwards), line.hasSuffix("\"}") else {
                return Verification(entries: count, problem: "line \(number): no hash field at the end")
            }
            let body = String(line[..<marker.lowerBound]) + "}"
            let recorded = String(line[marker.upperBound..<line.index(line.endIndex, offsetBy: -2)])
            let actual = hash(of: body)
            guard recorded == actual else {
                return Verification(entries: count, problem: "line \(number): recorded hash \(recorded.prefix(12))… does not match the content (\(actual.prefix(12))…): the entry was changed")
            }
            guard body.contains("\"previous\":\"\(previous)\"") else {
                return Verification(entries: count, problem: "line \(number): its previous-hash link does not match line \(number - 1): an entry was removed, inserted or reordered")
            }
            previous = actual
            count += 1
        }
        return Verification(entries: count, problem: nil, head: previous)
    }
}
