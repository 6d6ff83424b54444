import Foundation

/// Progress output for long runs: a live line rewritten in place on a terminal, plain lines
/// (one per step) when the output is a file or a pipe (CI logs).
public struct ProgressLine: Sendable {
    /// Whether the line is rewritten in place.
    public let live: Bool

    /// Creates progress output on standard error; live only when it is a terminal.
    public init(live: Bool = isatty(STDERR_FILENO) == 1) { self.live = live }

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
        if live {
            FileHandle.standardError.write(Data(("\r\u{1B}[2K" + text + (done == total ? "\n" : "")).utf8))
        } else {
            FileHandle.standardError.write(Data((text + "\n").utf8))
        }
    }

    /// Prints a line that must not be overwritten (a warning during a live line).
    public func note(_ text: String) {
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
