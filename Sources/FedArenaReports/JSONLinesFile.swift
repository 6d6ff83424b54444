import FedArenaCore
import Foundation

/// An append-only JSON Lines file (`metrics.jsonl`): one JSON object per line, flushed per
/// line so that a crashed run keeps every completed round.
///
/// `pandas.read_json(path, lines=True)` reads it.
public final class JSONLinesFile {
    /// Where the lines go.
    public let path: String
    private let handle: FileHandle

    /// Creates (or truncates) the file.
    /// - Throws: ``ReportError`` naming the path when it cannot be created.
    public init(path: String) throws(ReportError) {
        self.path = path
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw ReportError("cannot create \(path)")
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw ReportError("cannot open \(path) for writing")
        }
        self.handle = handle
    }

    /// Opens an existing file to append after its first `lines` lines (later lines are cut).
    /// - Throws: ``ReportError`` naming the path when it cannot be read or holds fewer lines.
    public init(appendingTo path: String, keepingLines lines: Int) throws(ReportError) {
        self.path = path
        do {
            try Self.truncate(path, toLines: lines, what: "the metrics file")
        } catch {
            throw ReportError("\(error)")
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw ReportError("cannot open \(path) to append")
        }
        do {
            try handle.seekToEnd()
        } catch {
            throw ReportError("cannot append to \(path): \(error)")
        }
        self.handle = handle
    }

    /// Cuts a line-oriented file after its first `lines` lines.
    /// - Throws: ``ReportError`` naming the file when it cannot be read or written, or holds
    ///   fewer complete lines than `lines`.
    public static func truncate(_ path: String, toLines lines: Int, what: String) throws(ReportError) {
        guard let data = FileManager.default.contents(atPath: path) else { throw ReportError("cannot read \(what) \(path)") }
        var end = 0
        var seen = 0
        if lines > 0 {
            for (offset, byte) in data.enumerated() where byte == UInt8(ascii: "\n") {
                seen += 1
                if seen == lines {
                    end = offset + 1
                    break
                }
            }
            guard seen == lines else { throw ReportError("\(what) \(path) holds \(seen) complete lines, \(lines) expected") }
        }
        guard end < data.count else { return }
        guard Glibc.truncate(path, off_t(end)) == 0 else {
            throw ReportError("cannot cut \(what) \(path) after line \(lines): \(String(cString: strerror(errno)))")
        }
    }

    deinit { try? handle.close() }

    /// Appends one record.
    /// - Throws: ``ReportError`` when the write fails (disk full, ...).
    public func append(_ record: ConfigValue) throws(ReportError) {
        try append(line: JSONText.render(record))
    }

    /// Appends one line of JSON text (a newline is added).
    /// - Throws: ``ReportError`` when the write fails (disk full, ...).
    public func append(line text: String) throws(ReportError) {
        let line = text + "\n"
        do {
            try handle.write(contentsOf: Data(line.utf8))
        } catch {
            throw ReportError("cannot write to \(path): \(error)")
        }
    }
}

/// A failure to write a report or metrics file.
public struct ReportError: Error, Sendable, CustomStringConvertible {
    /// What failed, naming the file.
    public var message: String

    /// Creates an error.
    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

extension JSONText {
    /// Writes `value` as pretty JSON to `path` (atomically).
    /// - Throws: ``ReportError`` naming the path.
    public static func write(_ value: ConfigValue, to path: String) throws(ReportError) {
        let text = render(value, pretty: true) + "\n"
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw ReportError("cannot write \(path): \(error)")
        }
    }
}
