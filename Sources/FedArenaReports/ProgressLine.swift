import Foundation

/// Progress output for long runs: a live line rewritten in place on a terminal, plain lines
/// (one per step) when the output is a file or a pipe (CI logs), or entries handed to a sink
/// (the command line's JSON log lines).
public struct ProgressLine: Sendable {
    /// One piece of progress, as a sink receives it.
    public struct Entry: Sendable, Equatable {
        /// A step of a long task: `label done/total` with its detail.
        public struct Step: Sendable, Equatable {
            /// What a step is (`round`).
            public var label: String
            /// Steps completed.
            public var done: Int
            /// Steps in all.
            public var total: Int
            /// Seconds since the start.
            public var elapsed: Double
            /// Metrics to show (`acc 0.8123`).
            public var detail: String

            /// Creates a step.
            public init(label: String, done: Int, total: Int, elapsed: Double, detail: String) {
                self.label = label
                self.done = done
                self.total = total
                self.elapsed = elapsed
                self.detail = detail
            }
        }

        /// The text a terminal would show.
        public var text: String
        /// The step, or `nil` for a note.
        public var step: Step?

        /// Creates an entry.
        public init(text: String, step: Step?) {
            self.text = text
            self.step = step
        }
    }

    /// Whether the line is rewritten in place.
    public let live: Bool
    /// Where entries go instead of standard error, if anywhere.
    private let sink: (@Sendable (Entry) -> Void)?

    /// Creates progress output on standard error; live only when it is a terminal.
    public init(live: Bool = isatty(STDERR_FILENO) == 1) {
        self.live = live
        self.sink = nil
    }

    /// Creates progress output that hands every entry to `sink` (never live).
    /// - Parameter sink: Receives each step and note, e.g. to log it.
    public init(sink: @escaping @Sendable (Entry) -> Void) {
        self.live = false
        self.sink = sink
    }

    /// Reports step `done` of `total` with a free-form detail.
    /// - Parameters:
    ///   - label: what a step is (`round`).
    ///   - done: steps completed.
    ///   - total: steps in all.
    ///   - elapsed: seconds since the start.
    ///   - detail: metrics to show (`acc 0.8123`).
    public func report(_ label: String, done: Int, total: Int, elapsed: Double, detail: String) {
        let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : .nan
        let text = "\(label) \(done)/\(total)  \(detail)  elapsed \(Self.duration(elapsed))  eta \(Self.duration(eta))"
        if let sink {
            sink(Entry(text: text, step: Entry.Step(label: label, done: done, total: total, elapsed: elapsed, detail: detail)))
        } else if live {
            FileHandle.standardError.write(Data(("\r\u{1B}[2K" + text + (done == total ? "\n" : "")).utf8))
        } else {
            FileHandle.standardError.write(Data((text + "\n").utf8))
        }
    }

    /// Prints a line that must not be overwritten (a warning during a live line).
    public func note(_ text: String) {
        if let sink { return sink(Entry(text: text, step: nil)) }
        FileHandle.standardError.write(Data(((live ? "\r\u{1B}[2K" : "") + text + "\n").utf8))
    }

    /// `1.2s`, `3m04s`, or `-` for unknown.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "-" }
        if seconds < 60 { return String(format: "%.1fs", seconds) }
        let whole = Int(seconds.rounded())
        return String(format: "%dm%02ds", whole / 60, whole % 60)
    }
}
