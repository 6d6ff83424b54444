import Foundation
import Testing

/// Detection at the coordinator, end to end, and the hash-chained ledger.
@Suite(.serialized) struct DetectionRunTests {
    static func cli(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await ChildProcess.run(FedArenaProcess.executable, arguments)
    }

    @Test func signFlippersAreFlaggedExcludedAndLedgered() async throws {
        let run = try await FedArenaProcess.run(
            scenario: LocalRunTests.scenario, name: "detect",
            overrides: [
                "attack={kind: sign-flip, scale: 4, fraction: 0.25}", "training.rounds=4", "dataset.root_samples=200",
                "defense.detection=[{kind: root-audit}, {kind: update-similarity}]",
            ])
        #expect(run.exitCode == 0, "\(run.output)")
        let summary = try run.summary()
        let detection = try #require(summary["detection"] as? [String: Any])
        #expect(detection["auc"] as? Double == 1)
        #expect(detection["tpr"] as? Double == 1)
        #expect(detection["fpr"] as? Double == 0)
        #expect((detection["flagged_by_round"] as? [Int]) == [2, 2, 2, 2])
        let first = try #require(try run.metricsLines().first?["detection"] as? [String: Any])
        let decisions = try #require(first["decisions"] as? [[String: Any]])
        #expect(decisions.allSatisfy { ($0["action"] as? String) == "exclude" && !(($0["reasons"] as? [String]) ?? []).isEmpty })
        // Each detector's own scores are recorded; in round 1 (no history to smooth with) the
        // fused score is their maximum, the policy's default `combine: max`.
        let fused = try #require(first["scores"] as? [String: Double])
        let perDetector = try #require(first["detector_scores"] as? [String: [String: Double]])
        #expect(Set(perDetector.keys) == ["root-audit", "update-similarity"])
        for (client, score) in fused {
            let own = perDetector.values.compactMap { $0[client] }
            #expect(own.count == 2 && own.max() == score, "client \(client): fused \(score), detectors \(own)")
        }
        // Excluding the flippers keeps the model learning (FedAvg alone collapses below 0.3).
        #expect((summary["final_accuracy"] as? Double ?? 0) > 0.6)

        let intact = try await Self.cli(["verify-ledger", run.folder])
        #expect(intact.status == 0, "\(intact.output)")
        #expect(intact.output.contains("intact, 4 entries"))
        let ledgerPath = run.folder + "/ledger.jsonl"
        var lines = try String(contentsOfFile: ledgerPath, encoding: .utf8).split(separator: "\n").map(String.init)
        lines[1] = lines[1].replacingOccurrences(of: "\"applied\":true", with: "\"applied\":false")
        try (lines.joined(separator: "\n") + "\n").write(toFile: ledgerPath, atomically: true, encoding: .utf8)
        let broken = try await Self.cli(["verify-ledger", run.folder])
        #expect(broken.status == 1)
        #expect(broken.output.contains("line 2"))
    }

    @Test func sketchesTravelWithUpdatesAndSyntheticClientsScoreHigher() async throws {
        let run = try await FedArenaProcess.run(
            scenario: LocalRunTests.scenario, name: "sketch",
            overrides: [
                "training.rounds=2", "dataset.root_samples=300",
                "attack={kind: synthetic-poison, generator: {kind: gaussian-pca, components: 5, small_classes: shrink}, poison: {kind: label-flip, source: 0, target: 6}, fraction: 0.25}",
                "defense.detection=[{kind: sketch-mmd, dimension: 64, null_draws: 50}]",
                // Report every client (threshold 0) so that each one's reasons are recorded.
                "defense.detection_policy={action: report, threshold: 0, max_flagged_fraction: 1}",
            ])
        #expect(run.exitCode == 0, "\(run.output)")
        let summary = try run.summary()
        let malicious = Set(try #require((summary["attack"] as? [String: Any])?["malicious_clients"] as? [Int]))
        #expect(malicious.count == 2)
        for line in try run.metricsLines() {
            let detection = try #require(line["detection"] as? [String: Any])
            let decisions = try #require(detection["decisions"] as? [[String: Any]])
            #expect(decisions.count == 8)
            for decision in decisions {
                let reasons = (decision["reasons"] as? [String]) ?? []
                #expect(!reasons.isEmpty)
                #expect(!reasons.contains { $0.contains("sent no data sketch") || $0.contains("malformed") }, "\(reasons)")
            }
            let scores = try #require(detection["scores"] as? [String: Double])
            let lowestMalicious = malicious.compactMap { scores[String($0)] }.min() ?? 0
            let highestHonest = scores.filter { !malicious.contains(Int($0.key)!) }.map(\.value).max() ?? 1
            #expect(lowestMalicious > highestHonest, "scores \(scores), malicious \(malicious)")
        }
    }

    @Test func auditRevealsSamplesAndScoresSyntheticClientsHigher() async throws {
        let run = try await FedArenaProcess.run(
            scenario: LocalRunTests.scenario, name: "audit",
            overrides: [
                "training.rounds=2", "dataset.root_samples=300",
                "attack={kind: synthetic-poison, generator: {kind: gaussian-pca, components: 5, small_classes: shrink}, fraction: 0.25}",
                "defense.detection=[{kind: audit-c2st, samples_per_client: 16}]",
            ])
        #expect(run.exitCode == 0, "\(run.output)")
        let summary = try run.summary()
        let malicious = Set(try #require((summary["attack"] as? [String: Any])?["malicious_clients"] as? [Int]))
        let detection = try #require(summary["detection"] as? [String: Any])
        #expect(detection["auc"] as? Double == 1, "\(detection)")
        for line in try run.metricsLines() {
            let scores = try #require((line["detection"] as? [String: Any])?["scores"] as? [String: Double])
            #expect(scores.count == 8)
            let lowestMalicious = malicious.compactMap { scores[String($0)] }.min() ?? 0
            let highestHonest = scores.filter { !malicious.contains(Int($0.key)!) }.map(\.value).max() ?? 1
            #expect(lowestMalicious > highestHonest, "\(scores)")
        }
    }

    @Test func detectorsWithoutARootSetAreRefused() async throws {
        let run = try await FedArenaProcess.run(
            scenario: LocalRunTests.scenario, name: "detect-noroot",
            overrides: ["dataset.root_samples=0", "defense.detection=[{kind: sketch-mmd}]"])
        #expect(run.exitCode == 2)
        #expect(run.output.contains("dataset.root_samples"), "\(run.output)")
        let typo = try await FedArenaProcess.run(
            scenario: LocalRunTests.scenario, name: "detect-typo", overrides: ["defense.detection=[{kind: root-audit, z_centre: 2}]"])
        #expect(typo.exitCode == 2)
        #expect(typo.output.contains("z_centre"), "\(typo.output)")
    }
}
