import FedArenaReports
import Synchronization
import Testing

/// Progress handed to a sink: the numbers of each step and the text a terminal would show.
@Suite struct ProgressLineTests {
    @Test func aSinkGetsStepsAndNotes() throws {
        let received = Mutex<[ProgressLine.Entry]>([])
        let progress = ProgressLine { entry in received.withLock { $0.append(entry) } }
        #expect(!progress.live)
        progress.report("round", done: 2, total: 8, elapsed: 3.0, detail: "acc 0.5")
        progress.note("warning: slow")
        let entries = received.withLock { $0 }
        try #require(entries.count == 2)
        // eta = 3.0 s / 2 steps * 6 steps left = 9.0 s.
        #expect(entries[0].text == "round 2/8  acc 0.5  elapsed 3.0s  eta 9.0s")
        #expect(entries[0].step == ProgressLine.Entry.Step(label: "round", done: 2, total: 8, elapsed: 3.0, detail: "acc 0.5"))
        #expect(entries[1] == ProgressLine.Entry(text: "warning: slow", step: nil))
    }
}
