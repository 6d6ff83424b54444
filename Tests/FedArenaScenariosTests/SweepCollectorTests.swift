import FedArenaCore
import FedArenaReports
import FedArenaScenarios
import Foundation
import Testing

/// The collector on cell folders written by the test: summaries with known accuracies, in
/// folders named anything (matched by hash).
@Suite struct SweepCollectorTests {
    static func summary(accuracy: Double, seed: UInt64) -> RunSummary {
        RunSummary(
            scenario: "s", seed: seed, status: "complete", roundsCompleted: 2, roundsApplied: 2, finalAccuracy: accuracy, finalLoss: 1,
            accuracyByRound: [accuracy / 2, accuracy], lossByRound: [2, 1], finalPerClassAccuracy: nil,
            modelSHA256: String(repeating: "f", count: 64), parameterCount: 1, wallSeconds: 5, secondsPerRoundMedian: 2, dropouts: 0,
            droppedClients: [], rejectedMessages: 0, degradedRounds: [], clients: 10, clientProcesses: 2, connectedProcesses: 2,
            aggregator: .string("fedavg"), attack: nil, detection: nil)
    }

    static func write(_ cell: SweepCell, status: SweepCellState.Status, accuracy: Double?, in folder: String, as name: String) throws {
        let path = folder + "/" + name
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        var state = SweepCellState(index: cell.index, name: cell.name, hash: cell.hash, status: status, started: "2026-01-01T00:00:00Z")
        if status == .failed { state.error = "fedarena run: exit status 1: boom" }
        try state.write(folder: path)
        if let accuracy {
            try RunRecords.encoder(pretty: true).encode(summary(accuracy: accuracy, seed: cell.seed)).write(to: URL(fileURLWithPath: path + "/summary.json"))
        }
    }

    @Test func matchesFoldersByHashAndMeasuresDropsAgainstTheSharedBaseline() throws {
        let plan = try SweepPlan.expand(try SweepFile(yaml: SweepPlanTests.base + """

            axes:
              attack:
                flip: { kind: sign-flip, fraction: 0.2 }
                noise: { kind: gaussian, fraction: 0.2 }
              seed: [1, 2]
            """, source: "collect.yaml"))
        // Cells: 0 flip/1, 1 flip/2, 2 noise/1, 3 noise/2, 4 baseline/1, 5 baseline/2.
        #expect(plan.cells.count == 6)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fedarena-collect-\(getpid())").path
        try? FileManager.default.removeItem(atPath: folder)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Self.write(plan.cells[0], status: .done, accuracy: 0.5, in: folder, as: "renamed-on-node-7")
        try Self.write(plan.cells[1], status: .done, accuracy: 0.6, in: folder, as: plan.cells[1].name)
        try Self.write(plan.cells[2], status: .failed, accuracy: nil, in: folder, as: plan.cells[2].name)
        try Self.write(plan.cells[4], status: .done, accuracy: 0.8, in: folder, as: plan.cells[4].name)
        try Self.write(plan.cells[5], status: .done, accuracy: 0.9, in: folder, as: plan.cells[5].name)
        // A folder of an edited sweep (another hash) is ignored.
        var stale = plan.cells[3]
        stale.hash = String(repeating: "0", count: 64)
        try Self.write(stale, status: .done, accuracy: 0.1, in: folder, as: plan.cells[3].name)

        let records = try SweepCollector(plan: plan, directory: folder).records()
        #expect(records.map(\.status) == [.done, .done, .failed, .missing, .done, .done])
        #expect(records[0].folder == "renamed-on-node-7")
        #expect(records[0].baseline == "baseline__seed-1" && records[1].baseline == "baseline__seed-2")
        // Drops: 0.8 - 0.5 and 0.9 - 0.6, each against its own seed's attack-off run.
        #expect(abs((records[0].metric("accuracy_drop") ?? 0) - 0.3) < 1e-12)
        #expect(abs((records[1].metric("accuracy_drop") ?? 0) - 0.3) < 1e-12)
        #expect(records[0].metric("baseline_final_accuracy") == 0.8)
        #expect(records[4].metric("accuracy_drop") == nil)
        #expect(records[2].error == "fedarena run: exit status 1: boom")
        #expect(records[0].accuracyByRound == [0.25, 0.5])
        #expect(records[0].metric("wall_seconds") == 5 && records[0].metric("rounds_completed") == 2)

        let collector = SweepCollector(plan: plan, directory: folder)
        try collector.write(records)
        let lines = try String(contentsOfFile: folder + "/cells.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 6)
        #expect(lines[3].contains("\"status\":\"missing\"") && lines[3].contains("\"final_accuracy\":null"))
        let table = try String(contentsOfFile: folder + "/table.md", encoding: .utf8)
        #expect(table.contains("2 of 4 cells done, plus 2 attack-off baselines"), "\(table)")
    }
}
