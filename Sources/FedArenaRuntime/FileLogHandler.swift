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
            /// Why the file cannot take lines, once said on standard error.
            var failure: String?
        }
        private let state: Mutex<State>

        /// Opens `path`, creating or truncating it (or appending to it, for a resumed run). When
        /// the file cannot be opened or written, standard error says so once, naming the file
        /// and the cause, and takes the lines from then on: none is dropped.
        public init(path: String, append: Bool = false) {
            if !append || !FileManager.default.fileExists(atPath: path) {
                FileManager.default.createFile(atPath: path, contents: nil)
            }
            var state = State(handle: FileHandle(forWritingAtPath: path))
            if state.handle == nil { state.failure = "cannot open log file \(path); its lines go to standard error" }
            if append, let handle = state.handle {
                do { try handle.seekToEnd() } catch {
                    state.handle = nil
                    state.failure = "cannot append to log file \(path) (\(error)); its lines go to standard error"
                }
            }
            self.path = path
            self.state = Mutex(state)
            if let failure = state.failure { FileHandle.standardError.write(Data("fedarena: \(failure)\n".utf8)) }
        }

        private let path: String

        /// Writes one line, prefixed with the current time (to standard error when the file fails).
        func write(_ line: String) {
            state.withLock { state in
                let stamped = Data((state.formatter.string(from: Date()) + " " + line).utf8)
                if let handle = state.handle {
                    do {
                        try handle.write(contentsOf: stamped)
                        return
                    } catch {
                        state.handle = nil
                        state.failure = "cannot write log file \(path) (\(error)); its lines go to standard error"
                        FileHandle.standardError.write(Data("fedarena: \(state.failure!)\n".utf8))
                    }
                }
                FileHandle.standardError.write(stamped)
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
