import FedArenaScenarios
import Foundation
import Synchronization
import Testing

@Suite struct SweepProgressTests {
    final class Capture: Sendable {
        let text = Mutex("")
        func append(_ line: String) { text.withLock { $0 += line } }
        var value: String { text.withLock { $0 } }
    }

    static func cells() throws -> [SweepCell] {
        try SweepPlan.expand(try SweepFile(yaml: SweepPlanTests.base + "\naxes:\n  seed: [1, 2, 3, 4, 5]\n", source: "p.yaml")).cells
    }

    @Test func withoutATerminalEveryEventIsOneJSONLine() throws {
        let cells = try Self.cells()
        let capture = Capture()
        let progress = SweepProgress(live: false) { capture.append($0) }
        progress.start(sweep: "p", total: 5, skipped: 1, jobs: 2)
        progress.skipped(cells[0])
        progress.cellStarted(cells[1])
        progress.cellFinished(cells[1], seconds: 4, error: nil, accuracy: 0.75)
        progress.cellStarted(cells[2])
        progress.cellFinished(cells[2], seconds: 2, error: "boom", accuracy: nil)
        progress.finish(folder: "/tmp/p", interrupted: false)
        let events = try capture.value.split(separator: "\n").map { line in
            try #require((try JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any])
        }
        #expect(events.map { $0["event"] as? String } == ["start", "cell_skipped", "cell_start", "cell_done", "cell_start", "cell_failed", "finish"])
        #expect(events[3]["final_accuracy"] as? Double == 0.75 && events[3]["name"] as? String == "seed-2")
        #expect(events[5]["error"] as? String == "boom")
        #expect(events[6]["done"] as? Int == 2 && events[6]["failed"] as? Int == 1)
    }

    @Test func onATerminalOneLineCountsCellsAndEstimatesFromFinishedOnes() throws {
        let cells = try Self.cells()
        let capture = Capture()
        let progress = SweepProgress(live: true) { capture.append($0) }
        progress.start(sweep: "p", total: 5, skipped: 0, jobs: 2)
        progress.cellStarted(cells[0])
        progress.cellStarted(cells[1])
        progress.cellFinished(cells[0], seconds: 10, error: nil, accuracy: nil)
        progress.cellFinished(cells[1], seconds: 20, error: "lost", accuracy: nil)
        // Mean 15 s per cell, 3 cells left, 2 at a time: 22.5 s.
        #expect(progress.estimatedSecondsLeft() == 22.5)
        let text = capture.value
        #expect(text.contains("\r\u{1B}[2Kcells 1/5 done, 0 running, 1 failed"))
        #expect(text.contains("cell 1 seed-2 failed: lost\n"))
        #expect(text.contains("eta 22.5s"))
        #expect(!text.contains("{\""))
    }
}
