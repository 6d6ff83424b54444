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

    /// Three rounds, four clients, client 3 malicious; clients 2 and 3 excluded in round 2.
    static func writeRun(in folder: String) throws {
        let scores: [[String: Double]] = [
            ["0": 0.1, "1": 0.2, "2": 0.3, "3": 0.9], ["0": 0.2, "1": 0.1, "2": 0.5, "3": 0.4], ["0": 0.1, "1": 0.1, "2": 0.1, "3": 0.8],
        ]
        let weights: [[String: Double]] = [["0": 0.25, "1": 0.25, "2": 0.25, "3": 0.25], ["0": 0.5, "1": 0.5], [:]]
        var lines = ""
        for round in 0..<3 {
            let line: ConfigValue = .object([
                "round": .int(round + 1), "accuracy": .double([0.5, 0.6, 0.7][round]), "loss": .double([1.2, 1.0, 0.9][round]),
                "mean_train_loss": .double(1.1 - 0.1 * Double(round)),
                "per_class_accuracy": .array([.double(0.4), .double(0.9)]),
                "selected": .array([0, 1, 2, 3].map(ConfigValue.int)),
                "weights": round == 2 ? .null : .object(weights[round].mapValues(ConfigValue.double)),
                "asr": .double([0.1, 0.3, 0.5][round]),
                "detection": .object(["scores": .object(scores[round].mapValues(ConfigValue.double))]),
            ])
            lines += JSONText.render(line) + "\n"
        }
        try lines.write(toFile: folder + "/metrics.jsonl", atomically: true, encoding: .utf8)
        let summary: ConfigValue = .object([
            "scenario": .string("fixture <run>"), "seed": .int(1), "rounds_completed": .int(3), "final_accuracy": .double(0.7),
            "final_loss": .double(0.9), "accuracy_by_round": .array([.double(0.5), .double(0.6), .double(0.7)]),
            "model_sha256": .string(String(repeating: "0", count: 64)), "wall_seconds": .double(3), "dropouts": .int(0),
            "attack": .object(["kind": .string("backdoor"), "malicious_clients": .array([.int(3)]), "final_asr": .double(0.5)]),
            "detection": .object(["tpr": .double(1), "fpr": .double(0), "auc": .double(1)]),
        ])
        try JSONText.write(summary, to: folder + "/summary.json")
        try "name: fixture\nseed: 1\n".write(toFile: folder + "/scenario.yaml", atomically: true, encoding: .utf8)
    }

    @Test func runDerivesTheROCAndTheWeightsOfEachRole() throws {
        let folder = try Self.folder("derive")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Self.writeRun(in: folder)
        let run = try ReportRun(folder: folder)
        // Positives 0.9, 0.4, 0.8 against nine negatives (max 0.5): 9 + 8 + 9 = 26 of 27 pairs.
        let roc = try #require(run.roc)
        #expect(abs(roc.auc - 26.0 / 27) < 1e-12)
        #expect(roc.positives == 3 && roc.negatives == 9)
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
        #expect(html.contains("AUC 0.963"))  // 26/27
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
