import FedArenaCore
import FedArenaReports
import Foundation
import Testing

/// Reports of run and sweep folders written by the test (the file contract of DESIGN.md's
/// "Outputs of a run"), so the expected numbers are worked out by hand.
@Suite struct ReportTests {
    static func folder(_ name: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fedarena-report-\(getpid())-\(name)").path
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Three rounds, four clients, client 3 malicious: attacking in round 1, idle in round 2,
    /// round 3 without the attacking list (then every malicious client counts); clients 2 and 3
    /// excluded in round 2; round 3 without weights.
    static func writeRun(in folder: String) throws {
        let scores: [[String: Double?]] = [
            ["0": 0.1, "1": 0.2, "2": 0.3, "3": 0.9], ["0": 0.2, "1": 0.1, "2": 0.5, "3": 0.4], ["0": 0.85, "1": 0.1, "2": 0.1, "3": 0.8],
        ]
        let weights: [[String: Double]] = [["0": 0.25, "1": 0.25, "2": 0.25, "3": 0.25], ["0": 0.5, "1": 0.5], [:]]
        let attacking: [[Int]?] = [[3], [], nil]
        var lines = ""
        for round in 0..<3 {
            let detection = DetectionRoundMetrics(
                scores: scores[round], flagged: [], decisions: [], threshold: 0.9, calibrating: false, tp: 0, fp: 0, tn: 0, fn: 0,
                idleMalicious: round == 1 ? [3] : [], auc: nil)
            let metrics = RoundMetrics(
                round: round + 1, accuracy: [0.5, 0.6, 0.7][round], loss: [1.2, 1.0, 0.9][round], perClassAccuracy: [0.4, 0.9],
                selected: [0, 1, 2, 3], accepted: [0, 1, 2, 3], dropped: [], rejected: [], rejectedCount: 0, rejectedByReason: [:],
                lateUpdates: 0, applied: true, degraded: nil, aggregator: "multi-krum", aggregatorNote: nil, weights: weights[round],
                meanTrainLoss: 1.1 - 0.1 * Double(round), nonFiniteTrainLosses: 0, stepNorm: 1, seconds: 1, waitSeconds: 0.5,
                aggregateSeconds: 0.1, asr: [0.1, 0.3, 0.5][round], attacking: attacking[round], maliciousAccepted: 1,
                maliciousWeight: 0, modelSHA256: String(repeating: "1", count: 64), detection: detection)
            lines += try RunRecords.line(metrics) + "\n"
        }
        try lines.write(toFile: folder + "/metrics.jsonl", atomically: true, encoding: .utf8)
        let summary = RunSummary(
            scenario: "fixture <run>", seed: 1, status: "complete", roundsCompleted: 3, roundsApplied: 3, finalAccuracy: 0.7,
            finalLoss: 0.9, accuracyByRound: [0.5, 0.6, 0.7], lossByRound: [1.2, 1.0, 0.9], finalPerClassAccuracy: [0.4, 0.9],
            modelSHA256: String(repeating: "0", count: 64), parameterCount: 10, wallSeconds: 3, secondsPerRoundMedian: 1, dropouts: 0,
            droppedClients: [], rejectedMessages: 0, degradedRounds: [], clients: 4, clientProcesses: 2, connectedProcesses: 2,
            aggregator: .object(["kind": .string("multi-krum"), "f": .int(1)]),
            attack: AttackSummary(
                kind: "backdoor", spec: .object(["kind": .string("backdoor")]), maliciousClients: [3], knowledge: nil, finalASR: 0.5,
                asrByRound: [0.1, 0.3, 0.5], maliciousAcceptedByRound: [1, 1, 1]),
            detection: DetectionSummary(
                detectors: [.object(["kind": .string("root-audit")])], policy: [:], tpr: 1, fpr: 0, precision: 1, auc: 1,
                flaggedByRound: [1, 0, 1], roundsToDetection: ["3": 1]))
        try RunRecords.encoder(pretty: true).encode(summary).write(to: URL(fileURLWithPath: folder + "/summary.json"))
        try "name: fixture\nseed: 1\n".write(toFile: folder + "/scenario.yaml", atomically: true, encoding: .utf8)
    }

    @Test func runDerivesTheROCAndTheWeightsOfEachRole() throws {
        let folder = try Self.folder("derive")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Self.writeRun(in: folder)
        let run = try ReportRun(folder: folder)
        // Positives: round 1's 0.9 and round 3's 0.8 (round 2 idle, left out); nine honest
        // negatives, of which only 0.85 outranks 0.8: (9 + 8) / 18 pairs.
        let roc = try #require(run.roc)
        #expect(abs(roc.auc - 17.0 / 18) < 1e-12)
        #expect(roc.positives == 2 && roc.negatives == 9)
        // Round 1: 0.25 each. Round 2: honest (0.5 + 0.5 + 0) / 3, malicious 0 (excluded). Round 3: no weights.
        let (honest, malicious) = run.meanWeights
        #expect(honest.count == 3 && malicious.count == 3)
        #expect(honest[0] == 0.25 && malicious[0] == 0.25)
        #expect(abs((honest[1] ?? 0) - 1.0 / 3) < 1e-12 && malicious[1] == 0)
        #expect(honest[2] == nil && malicious[2] == nil)
    }

    @Test func runReportHasEveryChartInlineAndAsFiles() throws {
        let folder = try Self.folder("run")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Self.writeRun(in: folder)
        let output = try Report.write(folder: folder)
        #expect(output.kind == "run")
        let names = ["accuracy", "loss", "asr", "per-class-accuracy", "suspicion", "roc", "weights"]
        #expect(output.charts.map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent } == names)
        let html = try String(contentsOfFile: output.page, encoding: .utf8)
        for name in names {
            #expect(html.contains("id=\"chart-\(name)\""), "\(name)")
            let svg = try String(contentsOfFile: folder + "/charts/\(name).svg", encoding: .utf8)
            #expect(svg.hasPrefix("<?xml") && svg.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        }
        // Self-contained: no script, no remote reference, the name escaped.
        #expect(!html.contains("<script") && !html.contains("https://") && !html.contains("src="))
        // The only http:// text is the SVG namespace name, which is never fetched.
        #expect(html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "").contains("http://") == false)
        #expect(html.contains("fixture &lt;run&gt;"))
        #expect(html.contains("AUC 0.944"))  // 17/18
    }

    @Test func sweepReportDrawsAMatrixPerMetricAndCurvesPerColumn() throws {
        let folder = try Self.folder("sweep")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var lines = ""
        var index = 0
        for attack in ["none", "flip"] {
            for defense in ["fedavg", "median"] {
                for seed in [1, 2] {
                    let record = SweepCellRecord(
                        index: index, name: "\(attack)-\(defense)-\(seed)", hash: String(index), role: "cell",
                        labels: [.init(axis: "attack", label: attack), .init(axis: "defense", label: defense), .init(axis: "seed", label: String(seed))],
                        seed: seed, attack: attack == "none" ? nil : attack, baseline: nil, status: .done,
                        metrics: ["final_accuracy": 0.5 + 0.1 * Double(index % 4), "wall_seconds": 1],
                        accuracyByRound: [0.3, 0.5 + 0.01 * Double(seed)])
                    lines += String(decoding: try JSONEncoder().encode(record), as: UTF8.self) + "\n"
                    index += 1
                }
            }
        }
        try lines.write(toFile: folder + "/cells.jsonl", atomically: true, encoding: .utf8)
        let output = try Report.write(folder: folder)
        #expect(output.kind == "sweep")
        let names = output.charts.map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent }
        #expect(names == ["matrix-final-accuracy", "matrix-wall-seconds", "curves-1", "curves-2"])
        let matrix = try String(contentsOfFile: folder + "/charts/matrix-final-accuracy.svg", encoding: .utf8)
        // none/fedavg: seeds 0.5, 0.6 -> 0.550; none/median 0.7, 0.8 -> 0.750; flip likewise.
        #expect(matrix.components(separatedBy: ">0.550<").count - 1 == 2)
        #expect(matrix.components(separatedBy: ">0.750<").count - 1 == 2)
        let html = try String(contentsOfFile: output.page, encoding: .utf8)
        #expect(html.contains("id=\"cells\""))
        #expect(html.components(separatedBy: "<tr id=\"cell-").count - 1 == 8)
    }
}
