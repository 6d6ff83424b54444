import Foundation
import Testing

/// Attack scenarios end to end: malicious client processes, the adversary process, ASR.
@Suite(.serialized) struct AttackRunTests {
    @Test func signFlipIsRecordedWithItsMaliciousClients() async throws {
        let run = try await FedArenaProcess.run(
            scenario: LocalRunTests.scenario, name: "signflip",
            overrides: ["attack={kind: sign-flip, scale: 4, fraction: 0.25}", "training.rounds=3"])
        #expect(run.exitCode == 0, "\(run.output)")
        let summary = try run.summary()
        let attack = try #require(summary["attack"] as? [String: Any])
        #expect(attack["kind"] as? String == "sign-flip")
        #expect((attack["malicious_clients"] as? [Int])?.count == 2)
        #expect((attack["malicious_accepted_by_round"] as? [Int]) == [2, 2, 2])
        // -4x updates from 2 of 8 clients outweigh the 6 honest ones under FedAvg.
        let accuracy = try #require(summary["final_accuracy"] as? Double)
        #expect(accuracy < 0.3, "final accuracy \(accuracy)")
    }

    @Test func pooledAttackGoesThroughTheAdversaryProcess() async throws {
        let run = try await FedArenaProcess.run(
            scenario: LocalRunTests.scenario, name: "alie",
            overrides: ["attack={kind: alie, fraction: 0.25, knowledge: partial}", "defense.aggregator=median", "training.rounds=3"])
        #expect(run.exitCode == 0, "\(run.output)")
        let log = try String(contentsOfFile: run.folder + "/logs/adversary.log", encoding: .utf8)
        #expect(log.contains("round 3: crafted 2 updates from 2 malicious"), "\(log)")
        #expect(try run.summary()["rounds_completed"] as? Int == 3)
    }

    @Test func backdoorReportsAnAttackSuccessRate() async throws {
        let run = try await FedArenaProcess.run(
            scenario: LocalRunTests.scenario, name: "backdoor",
            overrides: ["attack={kind: backdoor, target: 2, rate: 0.5, boost: 4, fraction: 0.25}", "training.rounds=3"])
        #expect(run.exitCode == 0, "\(run.output)")
        let attack = try #require(try run.summary()["attack"] as? [String: Any])
        let rates = try #require(attack["asr_by_round"] as? [Double])
        #expect(rates.count == 3)
        #expect(rates.allSatisfy { (0...1).contains($0) })
        // An attack-free model sends roughly a tenth of stamped samples to one class; the
        // boosted backdoor sends far more (deterministic for the seed).
        #expect(rates.last! > 0.3, "backdoor ASR \(rates)")
    }

    @Test func impossibleAttacksAreRefusedAtValidation() async throws {
        let run = try await FedArenaProcess.run(
            scenario: LocalRunTests.scenario, name: "fangmedian",
            overrides: ["attack={kind: fang-krum, fraction: 0.25, knowledge: omniscient}", "defense.aggregator=median"])
        #expect(run.exitCode == 2)
        #expect(run.output.contains("attack"), "\(run.output)")
        let low = try await FedArenaProcess.run(
            scenario: LocalRunTests.scenario, name: "lowknowledge",
            overrides: ["attack={kind: min-max, fraction: 0.25, knowledge: none}"])
        #expect(low.exitCode == 2)
        #expect(low.output.contains("knowledge"), "\(low.output)")
    }
}
