import FedArenaReports
import Foundation
import Testing

@Suite struct SweepTableTests {
    static func record(
        _ index: Int, attack: String, seed: Int, accuracy: Double?, drop: Double? = nil, status: SweepCellRecord.Status = .done,
        role: String = "cell"
    ) -> SweepCellRecord {
        var labels = [SweepCellRecord.Label(axis: "attack", label: attack), SweepCellRecord.Label(axis: "seed", label: String(seed))]
        if role == "baseline" { labels.removeFirst() }
        return SweepCellRecord(
            index: index, name: "cell-\(index)", hash: String(repeating: "a", count: 64), role: role, labels: labels, seed: seed,
            attack: attack == "none" ? nil : attack, baseline: nil, status: status, error: status == .failed ? "boom, \"quoted\"" : nil,
            metrics: ["final_accuracy": accuracy, "accuracy_drop": drop, "wall_seconds": 2])
    }

    static let records = [
        record(0, attack: "none", seed: 1, accuracy: 0.8),
        record(1, attack: "none", seed: 2, accuracy: 0.9),
        record(2, attack: "flip", seed: 1, accuracy: 0.6, drop: 0.2),
        record(3, attack: "flip", seed: 2, accuracy: nil, status: .failed),
    ]

    @Test func groupsCellsThatDifferOnlyInTheirSeed() {
        let groups = SweepTable.groups(Self.records)
        #expect(groups.map { $0.labels.map(\.label) } == [["none"], ["flip"]])
        #expect(groups.map { $0.cells.count } == [2, 2])
        #expect(groups[1].done.map(\.index) == [2])
    }

    @Test func markdownHasMeanStdAndIntervalPerGroup() throws {
        let text = SweepTable.markdown(Self.records, title: "t")
        let rows = text.split(separator: "\n").filter { $0.hasPrefix("| ") }.map { line in
            line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        #expect(rows.first == ["attack", "seeds", "final accuracy", "accuracy drop", "ASR", "detection TPR", "detection FPR", "detection AUC", "seconds"])
        // none: mean 0.85, s = 0.05 * sqrt(2) = 0.0707, half width 12.7062 * 0.0707 / sqrt(2) = 0.6353.
        let none = try #require(rows.first { $0.first == "none" })
        #expect(none == ["none", "2", "0.8500 ± 0.0707 [0.2147, 1.4853]", "—", "—", "—", "—", "—", "2.0 ± 0.0 [2.0, 2.0]"])
        // flip: one finished seed gives the value alone; the failed one is counted.
        let flip = try #require(rows.first { $0.first == "flip" })
        #expect(flip == ["flip", "1 (1 failed)", "0.6000", "0.2000", "—", "—", "—", "—", "2.0"])
        #expect(text.contains("3 of 4 cells done"))
    }

    @Test func csvHasOneRowPerCellAndEveryMetricAsAColumn() throws {
        let lines = SweepTable.csv(Self.records).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let header = lines[0].split(separator: ",").map(String.init)
        #expect(Array(header.prefix(8)) == ["index", "name", "role", "status", "attack", "seed", "attack_kind", "baseline"])
        for metric in SweepCellRecord.metricNames { #expect(header.contains(metric), "\(metric)") }
        #expect(lines.count == 6)  // header, 4 rows, final newline
        let accuracy = try #require(header.firstIndex(of: "final_accuracy"))
        #expect(lines[3].split(separator: ",", omittingEmptySubsequences: false)[accuracy] == "0.6")
        #expect(lines[4].contains("\"boom, \"\"quoted\"\"\""))
    }

    @Test func recordsRoundTripThroughJSONWithExplicitNulls() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = try encoder.encode(Self.records[3])
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"final_asr\":null"))
        #expect(text.contains("\"model_sha256\":null"))
        #expect(text.contains("\"status\":\"failed\""))
        let decoded = try JSONDecoder().decode(SweepCellRecord.self, from: data)
        #expect(decoded.status == .failed && decoded.error == Self.records[3].error)
        #expect(decoded.metric("wall_seconds") == 2 && decoded.metric("final_accuracy") == nil)
    }
}
