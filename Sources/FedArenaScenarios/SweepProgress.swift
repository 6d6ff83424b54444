import FedArenaCore
import FedArenaReports
import Foundation

/// What a sweep shows while it runs, on standard error: on a terminal, one line rewritten in
/// place (cells done / running / failed, elapsed, ETA from the finished cells) and a line per
/// failure; otherwise one JSON object per event (`start`, `cell_start`, `cell_done`,
/// `cell_failed`, `cell_skipped`, `finish`), one per line, for CI logs and scripts.
public final class SweepProgress: @unchecked Sendable {
    /// Whether the output is a live terminal line.
    public let live: Bool
    private let lock = NSLock()
    private let write: @Sendable (String) -> Void
    private var total = 0
    private var jobs = 1
    private var done = 0
    private var failed = 0
    private var running = 0
    private var skipped = 0
    private var finishedSeconds = [Double]()
    private let started = ContinuousClock.now

    /// Creates progress output.
    /// - Parameters:
    ///   - live: rewrite one line in place (default: when standard error is a terminal).
    ///   - write: where text goes (default: standard error).
    public init(
        live: Bool = isatty(STDERR_FILENO) == 1,
        write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }
    ) {
        self.live = live
        self.write = write
    }

    /// The sweep starts: `total` cells, `skipped` of them already done, `jobs` at a time.
    public func start(sweep: String, total: Int, skipped: Int, jobs: Int) {
        lock.lock()
        self.total = total
        self.skipped = skipped
        self.jobs = jobs
        lock.unlock()
        if live {
            write("sweep \(sweep): \(total) cells, \(skipped) already done, \(jobs) at a time\n")
            redraw()
        } else {
            event(["event": .string("start"), "sweep": .string(sweep), "cells": .int(total), "skipped": .int(skipped), "jobs": .int(jobs)])
        }
    }

    /// A finished cell is kept from an earlier sweep.
    public func skipped(_ cell: SweepCell) {
        if !live { event(["event": .string("cell_skipped"), "index": .int(cell.index), "name": .string(cell.name)]) }
    }

    /// A cell's run starts.
    public func cellStarted(_ cell: SweepCell) {
        lock.lock()
        running += 1
        lock.unlock()
        if live { redraw() } else { event(["event": .string("cell_start"), "index": .int(cell.index), "name": .string(cell.name)]) }
    }

    /// A cell's run ended.
    /// - Parameters:
    ///   - cell: the cell.
    ///   - seconds: its wall time.
    ///   - error: why it failed, or `nil` when it finished.
    ///   - accuracy: its final accuracy, when known.
    public func cellFinished(_ cell: SweepCell, seconds: Double, error: String?, accuracy: Double?) {
        lock.lock()
        running -= 1
        if error == nil { done += 1 } else { failed += 1 }
        finishedSeconds.append(seconds)
        lock.unlock()
        if live {
            if let error { write("\r\u{1B}[2Kcell \(cell.index) \(cell.name) failed: \(error)\n") }
            redraw()
        } else {
            var fields: [String: ConfigValue] = [
                "event": .string(error == nil ? "cell_done" : "cell_failed"), "index": .int(cell.index), "name": .string(cell.name),
                "seconds": JSONText.number(seconds),
            ]
            if let error { fields["error"] = .string(error) }
            if let accuracy { fields["final_accuracy"] = JSONText.number(accuracy) }
            event(fields)
        }
    }

    /// The sweep ended (or stopped).
    public func finish(folder: String, interrupted: Bool) {
        lock.lock()
        let (done, failed, skipped, total) = (done, failed, skipped, total)
        lock.unlock()
        let elapsed = Self.seconds(since: started)
        if live {
            write("\r\u{1B}[2K")
            write(
                "sweep \(interrupted ? "stopped" : "finished"): \(done + skipped)/\(total) cells done (\(skipped) from before), \(failed) failed, "
                    + "\(ProgressLine.duration(elapsed)); results in \(folder)\n")
        } else {
            event([
                "event": .string("finish"), "done": .int(done + skipped), "failed": .int(failed), "cells": .int(total),
                "interrupted": .bool(interrupted), "seconds": JSONText.number(elapsed), "folder": .string(folder),
            ])
        }
    }

    /// A line that must not be overwritten.
    public func note(_ text: String) {
        if live {
            write("\r\u{1B}[2K" + text + "\n")
            redraw()
        } else {
            event(["event": .string("note"), "message": .string(text)])
        }
    }

    /// Seconds left: the mean wall time of the cells finished so far times the cells left,
    /// divided by the cells that run at once; NaN before any cell finished.
    public func estimatedSecondsLeft() -> Double {
        lock.lock()
        defer { lock.unlock() }
        guard !finishedSeconds.isEmpty else { return .nan }
        let mean = finishedSeconds.reduce(0, +) / Double(finishedSeconds.count)
        let remaining = total - skipped - done - failed
        return mean * Double(remaining) / Double(max(1, min(jobs, remaining)))
    }

    private func redraw() {
        lock.lock()
        let text = "cells \(done + skipped)/\(total) done, \(running) running, \(failed) failed"
        lock.unlock()
        let elapsed = Self.seconds(since: started)
        write("\r\u{1B}[2K\(text)  elapsed \(ProgressLine.duration(elapsed))  eta \(ProgressLine.duration(estimatedSecondsLeft()))")
    }

    private func event(_ fields: [String: ConfigValue]) {
        var fields = fields
        fields["time"] = .string(SweepCellState.now())
        write(JSONText.render(.object(fields)) + "\n")
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = start.duration(to: .now)
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }
}
