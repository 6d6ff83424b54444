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
