import FedArenaScenarios
import Foundation
import Testing

/// Signals to `fedarena run`: SIGINT and SIGTERM stop it cleanly (exit 130 / 143, children
/// reaped, `interrupted.json`), and after SIGKILL no child outlives it. Children are checked by
/// the process identifiers the run wrote in `processes.json`, never by name.
@Suite(.serialized) struct InterruptionTests {
    /// Long enough that a signal always lands mid-run, however fast the rounds are.
    static let overrides = ["training.rounds=400", "transport.round_timeout_s=20"]

    @Test(arguments: [SIGINT, SIGTERM])
    func aSignalStopsTheRunAndReapsEveryChild(signal: Int32) async throws {
        let name = signal == SIGINT ? "SIGINT" : "SIGTERM"
        let run = try FedArenaProcess.start(scenario: LocalRunTests.scenario, name: "signal-\(name)", overrides: Self.overrides)
        try await FedArenaProcess.waitForLines(in: run.folder + "/metrics.jsonl", count: 1, timeout: 180)
        let started = try await run.processes(timeout: 60)
        #expect(started.coordinator == run.process.processIdentifier)
        #expect(started.clients.count == 4)
        #expect(started.children.allSatisfy(FedArenaProcess.isAlive))
        #expect(kill(run.process.processIdentifier, signal) == 0)
        let finished = try await run.wait(timeout: 60)
        #expect(finished.exitCode == 128 + signal, "\(finished.output)")
        #expect(finished.output.contains("interrupted by \(name)"), "\(finished.output)")
        // Reaped by the coordinator before it exited: not even a zombie is left.
        #expect(try await FedArenaProcess.waitUntilGone(started.children, timeout: 5) == [])
        let marker = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run.folder + "/interrupted.json"))) as? [String: Any])
        #expect(marker["signal"] as? String == name)
        #expect(marker["rounds_planned"] as? Int == 400)
        let recorded = try #require(marker["rounds_recorded"] as? Int)
        let lines = try finished.metricsLines()
        #expect(lines.count == recorded)
        #expect(recorded >= 1 && recorded < 400)
        // The recorded rounds are the first ones, in order, none made up after the signal.
        #expect(lines.compactMap { $0["round"] as? Int } == Array(stride(from: 1, through: recorded, by: 1)))
        #expect(!FileManager.default.fileExists(atPath: run.folder + "/summary.json"))
        let log = try String(contentsOfFile: run.folder + "/coordinator.log", encoding: .utf8)
        #expect(log.contains("interrupted by \(name)"))
    }

    @Test func aKilledRunLeavesNoChildBehind() async throws {
        let run = try FedArenaProcess.start(scenario: LocalRunTests.scenario, name: "sigkill", overrides: Self.overrides)
        try await FedArenaProcess.waitForLines(in: run.folder + "/metrics.jsonl", count: 1, timeout: 180)
        let started = try await run.processes(timeout: 60)
        #expect(started.children.count == 4)
        #expect(started.children.allSatisfy(FedArenaProcess.isAlive))
        #expect(kill(run.process.processIdentifier, SIGKILL) == 0)
        let finished = try await run.wait(timeout: 30)
        #expect(finished.exitCode == SIGKILL)
        // PR_SET_PDEATHSIG: the kernel kills each child as its parent dies.
        let survivors = try await FedArenaProcess.waitUntilGone(started.children, timeout: 10)
        #expect(survivors == [], "still running after the coordinator was killed: \(survivors)")
        for pid in survivors { kill(pid, SIGKILL) }
    }

    @Test func aChildWhoseParentIsAlreadyGoneStopsAtOnce() async throws {
        // PID 1 is never this test's parent: the client must notice and exit before connecting.
        let client = try FedArenaProcess.startCommand(
            ["client", "--connect", "tcp://127.0.0.1:9", "--no-curve", "--parent-pid", "1"], name: "orphan")
        let finished = try await client.wait(timeout: 30)
        #expect(finished.exitCode == 1)
        #expect(finished.output.contains("parent process 1 is gone"), "\(finished.output)")
    }
}
