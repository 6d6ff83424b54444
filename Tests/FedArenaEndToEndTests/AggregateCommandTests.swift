import FedArenaCore
import FedArenaData
import Foundation
import Testing

/// `fedarena aggregate` on NPY files, run as a real process.
@Suite struct AggregateCommandTests {
    /// 7 honest updates near (1, 1, 1, 1) and 2 large outliers.
    static func writeUpdates(in folder: URL) throws -> String {
        var rows = [Float]()
        for index in 0..<7 { rows += (0..<4).map { Float(1) + Float((index + $0) % 3) * 0.01 } }
        rows += [100, -100, 100, -100, 90, 90, -90, -90]
        let path = folder.appendingPathComponent("updates.npy").path
        try NPYFile.write(rows, shape: [9, 4], to: path)
        return path
    }

    static func run(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await ChildProcess.run(FedArenaProcess.executable, ["aggregate"] + arguments)
    }

    @Test func krumSelectsAnHonestUpdateAndWritesTheResult() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fedarena-agg-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = try Self.writeUpdates(in: folder)
        let output = folder.appendingPathComponent("merged.npy").path
        let (status, text) = try await Self.run(["--rule", "krum", "--f", "2", "--in", input, "--out", output])
        #expect(status == 0, "\(text)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let selected = try #require(json["selected"] as? [Int])
        #expect(selected.count == 1)
        #expect(selected[0] < 7)
        #expect((json["weights"] as? [Double])?.count == 9)
        let (merged, shape) = try NPYFile.read(output)
        #expect(shape == [4])
        #expect(merged.allSatisfy { abs($0 - 1) < 0.05 })
    }

    @Test func badArgumentsAreExplained() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fedarena-agg-bad-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = try Self.writeUpdates(in: folder)
        let tooMany = try await Self.run(["--rule", "krum", "--f", "4", "--in", input])
        #expect(tooMany.status == 2)
        #expect(tooMany.output.contains("n > 2f + 2"))
        let unknown = try await Self.run(["--rule", "krumm", "--f", "1", "--in", input])
        #expect(unknown.status == 2)
        #expect(unknown.output.contains("did you mean \"krum\""))
        let missing = try await Self.run(["--rule", "median", "--in", folder.appendingPathComponent("nope.npy").path])
        #expect(missing.status == 2)
        #expect(missing.output.contains("nope.npy"))
    }

    /// The scenario's round pipeline offline: update-similarity flags the two sign-flipped rows,
    /// the decision excludes them, and FedAvg merges the seven honest rows.
    @Test func aScenarioRunsItsWholeRoundPipeline() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fedarena-agg-pipeline-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let scenario = folder.appendingPathComponent("scenario.yaml").path
        try """
            name: offline-pipeline
            seed: 3
            dataset: { name: fashion-mnist, train_subset: 1000, test_subset: 100 }
            model: { kind: softmax }
            training: { rounds: 1, local_epochs: 1, batch_size: 32, lr: 0.1 }
            clients: { count: 9, per_round: 9, processes: 1 }
            defense:
              detection: [ { kind: update-similarity } ]
              detection_policy: { action: exclude }
              aggregator: fedavg
            """.write(toFile: scenario, atomically: true, encoding: .utf8)
        // Softmax regression on 784 pixels and 10 classes: 7,850 parameters. Seven honest rows
        // share a direction b plus a per-row term; rows 7 and 8 are -4 b (sign flip).
        let d = 7_850
        func base(_ j: Int) -> Double { 0.01 * sin(Double(j) * 0.37) }
        var rows = [Float]()
        var honestSum = [Double](repeating: 0, count: d)
        for row in 0..<9 {
            for j in 0..<d {
                // A per-row term as large as b (a multiplicative hash in [-1, 1)), so that no two
                // honest rows are near-duplicates, which the detector's sybil check would flag.
                let hash = Double(((row + 1) &* 2_654_435_761 &+ j &* 40_503) % 1_000) / 500 - 1
                let value = row < 7 ? Float(base(j) + 0.01 * hash) : Float(-4 * base(j))
                rows.append(value)
                if row < 7 { honestSum[j] += Double(value) }
            }
        }
        let input = folder.appendingPathComponent("updates.npy").path
        try NPYFile.write(rows, shape: [9, d], to: input)
        let output = folder.appendingPathComponent("merged.npy").path
        let (status, text) = try await Self.run(["--scenario", scenario, "--in", input, "--out", output])
        #expect(status == 0, "\(text)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(json["validated"] as? [Int] == Array(0..<9))
        #expect(json["screened"] as? [Int] == Array(0..<7))
        #expect(json["rule_used"] as? String == "fedavg")
        #expect(json["applied"] as? Bool == true)
        let detection = try #require(json["detection"] as? [String: Any])
        let decisions = try #require(detection["decisions"] as? [[String: Any]])
        let flagged = decisions.filter { $0["flagged"] as? Bool == true }.compactMap { $0["client"] as? Int }
        #expect(flagged == [7, 8], "\(decisions)")
        let weights = try #require(json["weights"] as? [Double])
        #expect(weights.count == 9)
        #expect(weights[7] == 0 && weights[8] == 0)
        // FedAvg with equal sample counts: the plain mean of the seven honest rows.
        let (merged, shape) = try NPYFile.read(output)
        #expect(shape == [d])
        let worst = (0..<d).map { abs(Double(merged[$0]) - honestSum[$0] / 7) }.max() ?? .infinity
        #expect(worst < 1e-7, "largest difference from the honest mean: \(worst)")
    }

    @Test func ruleAndScenarioAreExclusive() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fedarena-agg-modes-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = try Self.writeUpdates(in: folder)
        let neither = try await Self.run(["--in", input])
        #expect(neither.status == 2)
        #expect(neither.output.contains("give --rule KIND"), "\(neither.output)")
        let both = try await Self.run(["--rule", "median", "--scenario", "scenarios/quickstart.yaml", "--in", input])
        #expect(both.status == 2)
        #expect(both.output.contains("not both"), "\(both.output)")
        let missing = try await Self.run(["--scenario", folder.appendingPathComponent("nope.yaml").path, "--in", input])
        #expect(missing.status == 2)
        #expect(missing.output.contains("nope.yaml"), "\(missing.output)")
    }
}
