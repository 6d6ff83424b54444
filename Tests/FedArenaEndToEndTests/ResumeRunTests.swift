import FedArenaScenarios
import Foundation
import Testing

/// A coordinator killed mid-run (SIGKILL) and resumed with `fedarena run --resume` ends with the
/// same final model as an uninterrupted run, for a scenario whose defense carries state across
/// rounds (detection smoothing and threshold calibration, FoolsGold-free FedAvg after
/// exclusion) and whose attack runs on a schedule.
@Suite(.serialized) struct ResumeRunTests {
    static let overrides = [
        "attack={kind: sign-flip, scale: 4, fraction: 0.25, start: 2}", "training.rounds=40", "dataset.root_samples=200",
        "defense.detection=[{kind: root-audit}, {kind: update-similarity}]", "defense.detection_policy={calibration_rounds: 3}",
    ]

    @Test func aKilledCoordinatorResumesToTheSameFinalModel() async throws {
        let reference = try await FedArenaProcess.run(scenario: LocalRunTests.scenario, name: "resume-ref", overrides: Self.overrides)
        #expect(reference.exitCode == 0, "\(reference.output)")
        let expected = try #require(try reference.summary()["model_sha256"] as? String)

        let running = try FedArenaProcess.start(scenario: LocalRunTests.scenario, name: "resume-cut", overrides: Self.overrides)
        let processes = try await running.processes(timeout: 120)
        // Kill the coordinator once a few rounds (and their checkpoints) are written.
        let coordinator = processes.coordinator
        try await FedArenaProcess.waitForLines(in: running.folder + "/metrics.jsonl", count: 4, timeout: 120) { kill(coordinator, SIGKILL) }
        _ = await ChildProcess.waitForExit(running.process, timeout: 60)
        // Its client processes are ended by PID (they are not this test's to leave running).
        for pid in processes.clients + [processes.adversary].compactMap({ $0 }) { kill(pid, SIGKILL) }
        #expect(!FileManager.default.fileExists(atPath: running.folder + "/summary.json"))

        // A plain rerun into the same folder is refused, naming what it holds.
        let refused = try await DetectionRunTests.cli(["run", running.folder + "/scenario.yaml", "--out", running.folder])
        #expect(refused.status != 0)
        #expect(refused.output.contains("already holds a run"), "\(refused.output)")

        let resumed = try await DetectionRunTests.cli(["run", "--resume", running.folder])
        #expect(resumed.status == 0, "\(resumed.output)")
        let summary = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: running.folder + "/summary.json"))) as? [String: Any])
        #expect(summary["model_sha256"] as? String == expected)
        #expect(summary["rounds_completed"] as? Int == 40)
        let rounds = try String(contentsOfFile: running.folder + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])["round"] as? Int
        }
        #expect(rounds == Array(1...40))
        let detection = try #require(summary["detection"] as? [String: Any])
        let referenceDetection = try #require(try reference.summary()["detection"] as? [String: Any])
        #expect(detection["auc"] as? Double == referenceDetection["auc"] as? Double)
        #expect(detection["flagged_by_round"] as? [Int] == referenceDetection["flagged_by_round"] as? [Int])
        let ledger = try await DetectionRunTests.cli(["verify-ledger", running.folder])
        #expect(ledger.status == 0, "\(ledger.output)")
    }
}
