import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import FedArenaReports
@testable import FedArenaRuntime
import FedArenaWire
import Foundation
import Logging
import Testing

/// The round pipeline on its own (validate → quorum → detect → decide → aggregate), and the
/// coordinator's measurements that depend on it.
@Suite struct RoundPipelineTests {
    static let d = CoordinatorTests.parameterCount

    static func update(_ client: Int, value: Float, samples: Int = 10, loss: Double = 0.5) -> ClientUpdate {
        ClientUpdate(
            client: ClientID(client), round: 1, sampleCount: samples, delta: ParameterVector([Float](repeating: value, count: d)),
            trainLoss: loss)
    }

    static func pipeline(_ config: ScenarioConfig) throws -> RoundPipeline {
        try RoundPipeline(config: config, rootSet: CoordinatorTests.testSet)
    }

    /// Evaluating the global model or measuring the attack success rate on samples that do not
    /// fit the model is an error naming what failed, not a NaN accuracy in the records; an
    /// empty probe has no success rate (NaN). Softmax regression at zero weights predicts class
    /// 0 for every sample (all logits tie, the first wins): 2 of the 20 test labels match, and
    /// every sample goes to class 0 (success rate 1 for target 0, 0 for target 6).
    @Test func evaluationFailuresAreErrorsNotNaN() throws {
        let engine = try ModelEngine(config: CoordinatorTests.config())
        let zeros = ParameterVector(zeros: Self.d)
        let metrics = try engine.evaluate(zeros, on: CoordinatorTests.testSet)
        #expect(metrics.accuracy == 0.1)
        let narrow = LabeledSamples(features: [0, 1, 0, 1], labels: [0, 1], featureCount: 2, classCount: 10)
        #expect {
            try engine.evaluate(zeros, on: narrow)
        } throws: { error in
            (error as? RuntimeError)?.message.contains("cannot evaluate the global model on 2 test samples") == true
        }
        #expect {
            try engine.successRate(zeros, probe: narrow, target: 6)
        } throws: { error in
            (error as? RuntimeError)?.message.contains("cannot measure the attack success rate on 2 probe samples") == true
        }
        #expect(try engine.successRate(zeros, probe: CoordinatorTests.testSet, target: 0) == 1)
        #expect(try engine.successRate(zeros, probe: CoordinatorTests.testSet, target: 6) == 0)
        #expect(try engine.successRate(zeros, probe: LabeledSamples(features: [], labels: [], featureCount: 784, classCount: 10), target: 0).isNaN)
    }

    @Test func invalidUpdatesAreRejectedWithReasonsAndTheRestIsMergedInClientOrder() throws {
        let config = CoordinatorTests.config(quorum: 0.4)
        let pipeline = try Self.pipeline(config)
        var nan = Self.update(3, value: 1)
        nan.delta.values[5] = .nan
        let short = ClientUpdate(client: ClientID(2), round: 1, sampleCount: 10, delta: ParameterVector([1, 2]))
        let updates = [Self.update(1, value: 3, samples: 30), nan, short, Self.update(0, value: 1, samples: 10, loss: .nan), Self.update(4, value: 9, samples: 0)]
        let input = RoundInput(round: 1, selected: (0..<5).map(ClientID.init), updates: updates, globalModel: ParameterVector(zeros: Self.d))
        var state = PipelineState()
        let outcome = pipeline.run(input, state: &state, logger: Logger(label: "test"))
        #expect(outcome.validated == [ClientID(0), ClientID(1)])
        #expect(outcome.rejections.map(\.client) == [ClientID(2), ClientID(3), ClientID(4)])
        #expect(outcome.rejections[0].reason.contains("2 values, the model \(Self.d)"))
        #expect(outcome.rejections[1].reason.contains("value 5 of the update is nan"))
        #expect(outcome.rejections[2].reason.contains("claims 0 samples"))
        // A NaN training loss is a diagnostic: the update is merged and counted.
        #expect(outcome.nonFiniteTrainLosses == 1)
        // FedAvg of 1 (10 samples) and 3 (30 samples): (10 + 90) / 40 = 2.5 in every coordinate.
        let step = try #require(outcome.step)
        #expect(step.values.allSatisfy { $0 == 2.5 })
        #expect(outcome.ruleUsed == "fedavg" && outcome.degradedReason == nil)
        #expect(state.previousAggregate == step)

        // The same updates in another order give the same bits.
        var again = PipelineState()
        let reversed = pipeline.run(
            RoundInput(round: 1, selected: input.selected, updates: updates.reversed(), globalModel: input.globalModel), state: &again,
            logger: Logger(label: "test"))
        #expect(reversed.step == outcome.step && again == state)
    }

    @Test func aRoundBelowQuorumLeavesTheModelAndStateUnchanged() throws {
        let pipeline = try Self.pipeline(CoordinatorTests.config(quorum: 0.75))
        let input = RoundInput(
            round: 1, selected: (0..<4).map(ClientID.init), updates: [Self.update(0, value: 1), Self.update(1, value: 2)],
            globalModel: ParameterVector(zeros: Self.d))
        var state = PipelineState()
        let outcome = pipeline.run(input, state: &state, logger: Logger(label: "test"))
        #expect(outcome.step == nil)
        #expect(outcome.degradedReason == "quorum not met: 2 of 4 updates are valid, 3 needed; the model is unchanged")
        #expect(state == PipelineState())
    }

    @Test func theDegradedPolicyReportsTheRuleThatRan() throws {
        var config = CoordinatorTests.config(quorum: 0.25)
        config.defense.aggregator = ComponentSpec(kind: "krum", options: ["f": .int(1)], keyPath: "defense.aggregator")
        let pipeline = try Self.pipeline(config)
        // Krum(f = 1) needs n > 2f + 2 = 4; three updates fall back to the median: 2.
        let input = RoundInput(
            round: 1, selected: (0..<4).map(ClientID.init), updates: [Self.update(0, value: 1), Self.update(1, value: 2), Self.update(2, value: 7)],
            globalModel: ParameterVector(zeros: Self.d))
        var state = PipelineState()
        let outcome = pipeline.run(input, state: &state, logger: Logger(label: "test"))
        #expect(outcome.ruleUsed == "median")
        #expect(outcome.degradedReason?.contains("krum needs n > 2f + 2") == true)
        #expect(outcome.step?.values.allSatisfy { $0 == 2 } == true)
    }

    /// Detection rates count only the client-rounds in which an attacker attacked: with
    /// `start: 3`, the malicious client is idle in rounds 1 and 2 and is neither a missed
    /// positive nor a negative there, whatever it sends.
    @Test func detectionRatesCountOnlyRoundsInWhichTheAttackerAttacked() async throws {
        var config = CoordinatorTests.config(clients: 4, processes: 2, rounds: 4)
        config.attack = ComponentSpec(
            kind: "sign-flip", options: ["fraction": .double(0.25), "start": .int(3)], keyPath: "attack")
        config.defense.detection = [ComponentSpec(kind: "update-similarity", keyPath: "defense.detection[0]")]
        config.defense.detectionPolicy = ["action": .string("report"), "threshold": .double(0.5)]
        let malicious = try AttackSetup.maliciousClients(for: config)
        #expect(malicious.count == 1)
        let attacker = malicious[0]
        let (result, records) = try await CoordinatorTests.run(config) { hub in
            (0..<2).map { index in
                // Every process sends the honest delta; the attacker always sends it flipped and
                // scaled (so it is flagged in every round, idle or not).
                CoordinatorTests.ScriptedProcess(index: index, transport: hub.connect(), delta: { client, round in
                    let honest = CoordinatorTests.delta(client: 0, round: round)
                    return client == attacker ? ParameterVector(honest.values.map { -20 * $0 }) : honest
                })
            }
        }
        #expect(records.count == 4)
        for record in records {
            let detection = try #require(record.detection)
            let active = record.round >= 3
            #expect(record.attacking == (active ? [attacker.rawValue] : []))
            #expect(detection.tp + detection.fn == (active ? 1 : 0), "round \(record.round)")
            #expect(detection.idleMalicious == (active ? [] : [attacker.rawValue]))
            #expect(detection.tp + detection.fp + detection.tn + detection.fn == (active ? 4 : 3))
        }
        #expect(result.detection?.tpr != nil)
    }

    @Test func recordsWriteNullForUndefinedValuesAndReadBack() throws {
        let metrics = RoundMetrics(
            round: 2, accuracy: .nan, loss: 0.25, perClassAccuracy: [0.5, .nan], selected: [0, 1], accepted: [0], dropped: [1],
            rejected: [], rejectedCount: 0, rejectedByReason: [:], lateUpdates: 0, applied: false, degraded: "quorum not met",
            aggregator: "fedavg", aggregatorNote: nil, weights: [:], meanTrainLoss: .infinity, nonFiniteTrainLosses: 1, stepNorm: 0,
            seconds: 1, waitSeconds: 0.5, aggregateSeconds: 0.1, asr: nil, attacking: nil, maliciousAccepted: nil, maliciousWeight: nil,
            modelSHA256: "ab", detection: nil)
        let line = try RunRecords.line(metrics)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        for key in ["accuracy", "asr", "detection", "aggregator_note", "mean_train_loss", "malicious_accepted", "attacking"] {
            #expect(object[key] is NSNull, "\(key) should be null, not left out")
        }
        #expect((object["per_class_accuracy"] as? [Any])?.last is NSNull)
        #expect(object["loss"] as? Double == 0.25)
        let decoded = try JSONDecoder().decode(RoundMetrics.self, from: Data(line.utf8))
        #expect(decoded == metrics)
    }

    @Test(arguments: ["fedavg", "multi-krum", "median"])
    func aCollectedBlockGivesTheSameBitsAsPerClientUpdates(rule: String) throws {
        var config = CoordinatorTests.config(clients: 6, quorum: 0.5)
        config.defense.aggregator = ComponentSpec(kind: rule, options: rule == "multi-krum" ? ["f": .int(1)] : [:], keyPath: "defense.aggregator")
        let pipeline = try Self.pipeline(config)
        var updates = (0..<6).map { client in
            ClientUpdate(
                client: ClientID(client), round: 1, sampleCount: 10 + client,
                delta: ParameterVector((0..<Self.d).map { Float(($0 * 7 + client * 13) % 29) * 0.01 - 0.1 }), trainLoss: 0.5)
        }
        updates[4].delta.values[3] = .infinity  // rejected by validation in both forms
        let selected = (0..<6).map(ClientID.init)
        var listState = PipelineState()
        let listed = pipeline.run(
            RoundInput(round: 1, selected: selected, updates: updates, globalModel: ParameterVector(zeros: Self.d)), state: &listState,
            logger: Logger(label: "test"))
        var block = RoundBlock(round: 1, selected: selected, dimension: Self.d)
        for update in updates.reversed() { block.store(update) }
        var blockState = PipelineState()
        let collected = pipeline.run(
            RoundInput(round: 1, selected: selected, collected: block.take(), globalModel: ParameterVector(zeros: Self.d)),
            state: &blockState, logger: Logger(label: "test"))
        #expect(collected.rejections == listed.rejections)
        #expect(collected.rejections.map(\.client) == [ClientID(4)])
        #expect(collected.rejections.first?.reason.contains("value 3 of the update is inf") == true)
        #expect(collected.validated == listed.validated && collected.screened == listed.screened)
        let step = try #require(collected.step)
        #expect(step.values.map(\.bitPattern) == listed.step?.values.map(\.bitPattern))
        #expect(collected.weights == listed.weights && collected.ruleUsed == rule)
        #expect(blockState == listState)
    }
}
