import Foundation
import Logging
import Synchronization

/// A swift-log handler that writes one JSON object per line: `time` (ISO 8601, UTC, with
/// milliseconds), `level`, `label`, `message` and `metadata` (an object, empty when there is
/// none), for log collectors (Kubernetes, Docker, Slurm output files) that parse lines.
///
/// Copies of a handler share one ``Output``, which writes each line with one locked
/// `write(2)` loop, so lines from concurrent tasks never interleave.
struct JSONLogHandler: LogHandler {
    /// Where the lines go: a file descriptor, standard error by default.
    final class Output: Sendable {
        private let descriptor: Int32
        private let lock = Mutex(())

        /// Writes to `descriptor` (not closed by this object).
        /// - Parameter descriptor: An open file descriptor, `STDERR_FILENO` by default.
        init(descriptor: Int32 = STDERR_FILENO) { self.descriptor = descriptor }

        /// Writes `bytes` whole (a log line is a diagnostic: a failed write drops it).
        func write(_ bytes: [UInt8]) {
            lock.withLock { _ in
                bytes.withUnsafeBytes { buffer in
                    var offset = 0
                    while offset < buffer.count {
                        let written = Foundation.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                        if written < 0 {
                            if errno == EINTR { continue }
                            return
                        }
                        offset += written
                    }
                }
            }
        }
    }

    /// One line as written (keys sorted, so lines are stable and diff well).
    struct Line: Codable, Equatable {
        var time: String
        var level: String
        var label: String
        var message: String
        var metadata: [String: MetadataValue]
    }

    /// A metadata value in JSON: a string, an array or an object.
    enum MetadataValue: Codable, Equatable {
        case string(String)
        case array([MetadataValue])
        case object([String: MetadataValue])

        /// Converts swift-log's value (`stringConvertible` values become their description).
        init(_ value: Logger.MetadataValue) {
            switch value {
            case .string(let text): self = .string(text)
            case .stringConvertible(let convertible): self = .string(convertible.description)
            case .array(let values): self = .array(values.map(MetadataValue.init))
            case .dictionary(let values): self = .object(values.mapValues(MetadataValue.init))
            }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .string(let text): try container.encode(text)
            case .array(let values): try container.encode(values)
            case .object(let values): try container.encode(values)
            }
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .string(text)
            } else if let values = try? container.decode([MetadataValue].self) {
                self = .array(values)
            } else {
                self = .object(try container.decode([String: MetadataValue].self))
            }
        }
    }

    private let label: String
    private let output: Output
    /// The lowest level written.
    var logLevel: Logger.Level
    /// Metadata added to every line of this handler (a logger's own metadata).
    var metadata: Logger.Metadata = [:]
    /// Metadata from the task context, added to every line.
    var metadataProvider: Logger.MetadataProvider?

    /// Creates a handler.
    /// - Parameters:
    ///   - label: The logger's label (`coordinator`, `client-3`).
    ///   - output: Where lines go; share one between the handlers of a process.
    ///   - level: The lowest level written.
    ///   - metadataProvider: Task-context metadata, if any.
    init(label: String, output: Output, level: Logger.Level = .info, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.output = output
        self.logLevel = level
        self.metadataProvider = metadataProvider
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let line = Line(
            time: Date().formatted(Self.timeFormat), level: event.level.rawValue, label: label,
            message: event.message.description, metadata: merged.mapValues(MetadataValue.init))
        output.write(Self.encode(line))
    }

    /// ISO 8601 in UTC with milliseconds: `2026-05-01T12:00:00.123Z`.
    static let timeFormat = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    /// The bytes of one line, newline included.
    static func encode(_ line: Line) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(line)) + [UInt8(ascii: "\n")]
        } catch {
            preconditionFailure("a log line of strings, arrays and objects always encodes as JSON: \(error)")
        }
    }
}
