import Foundation
import Logging
import Synchronization

/// A swift-log handler that appends lines to a file (the run folder's `coordinator.log`).
public struct FileLogHandler: LogHandler {
    /// The open file, shared by copies of the handler.
    public final class Sink: Sendable {
        private struct State {
            var handle: FileHandle?
            let formatter = ISO8601DateFormatter()
        }
        private let state: Mutex<State>

        /// Opens `path`, creating or truncating it (or appending to it, for a resumed run); a
        /// path that cannot be opened drops lines (logs are diagnostics, not records).
        public init(path: String, append: Bool = false) {
            if !append || !FileManager.default.fileExists(atPath: path) {
                FileManager.default.createFile(atPath: path, contents: nil)
            }
            let handle = FileHandle(forWritingAtPath: path)
            if append { _ = try? handle?.seekToEnd() }
            state = Mutex(State(handle: handle))
        }

        /// Writes one line, prefixed with the current time.
        func write(_ line: String) {
            state.withLock { state in
                let stamped = state.formatter.string(from: Date()) + " " + line
                try? state.handle?.write(contentsOf: Data(stamped.utf8))
            }
        }
    }

    private let sink: Sink
    private let label: String
    /// The lowest level written.
    public var logLevel: Logger.Level = .info
    /// Metadata added to every line.
    public var metadata: Logger.Metadata = [:]

    /// Creates a handler writing to `sink`.
    public init(label: String, sink: Sink) {
        self.label = label
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let fields = merged.isEmpty ? "" : " " + merged.keys.sorted().map { "\($0)=\(merged[$0]!)" }.joined(separator: " ")
        sink.write("\(event.level) \(label):\(fields) \(event.message)\n")
    }
}
