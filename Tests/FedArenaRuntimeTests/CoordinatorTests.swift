import FedArenaCore
import FedArenaDefenses
import FedArenaModels
import FedArenaNumerics
import FedArenaReports
import FedArenaRuntime
import FedArenaWire
import Foundation
import Logging
import Testing

/// The coordinator's round state machine over the in-process transport, with scripted
/// clients: validation of what clients send, quorum, and arrival-order independence.
@Suite struct CoordinatorTests {
    static let parameterCount = 784 * 10 + 10

    static func config(clients: Int = 4, processes: Int = 2, rounds: Int = 3, quorum: Double = 0.5, timeout: Double = 5) -> ScenarioConfig {
        ScenarioConfig(
            name: "unit", seed: 3, dataset: DatasetConfig(), model: .softmax, training: TrainingConfig(rounds: rounds),
            clients: ClientsConfig(count: clients, perRound: clients, processes: processes, quorum: quorum),
            defense: DefenseConfig(), transport: TransportConfig(roundTimeoutSeconds: timeout, connectTimeoutSeconds: 5),
            output: OutputConfig())
    }

    /// A small labelled set for evaluation (values do not matter for these tests).
    static let testSet: LabeledSamples = {
        var generator = SeededGenerator(seed: 9)
        let features = (0..<(20 * 784)).map { _ in Float(generator.unitDouble()) }
        return LabeledSamples(features: features, labels: (0..<20).map { Int32($0 % 10) }, featureCount: 784, classCount: 10)
    }()

    /// The delta a scripted client sends: a function of client and round only.
    static func delta(client: Int, round: Int) -> ParameterVector {
        ParameterVector((0..<parameterCount).map { Float(($0 % 7) - 3) * 0.001 * Float(client + 1) + Float(round) * 1e-4 })
    }

    /// A scripted client process: answers HELLO/TRAIN with fixed deltas, in the order `order`
    /// gives for each round's client list, after optional extra (bad) messages.
    struct ScriptedProcess {
        var index: Int
        var transport: InProcessClientTransport
        var order: @Sendable ([ClientID], Int) -> [ClientID] = { clients, _ in clients }
        var extra: @Sendable (WireMessage.Train) -> [[UInt8]] = { _ in [] }
        var sampleCount: @Sendable (ClientID) -> Int = { 10 + $0.rawValue }
        var answers: @Sendable (Int) -> Bool = { _ in true }
        var delta: @Sendable (ClientID, Int) -> ParameterVector = { client, round in CoordinatorTests.delta(client: client.rawValue, round: round) }

        func run() async throws {
            try transport.send(WireCodec.encode(.hello(WireMessage.Hello(processIndex: index, clients: []))))
            for await bytes in transport.inbound {
                switch try WireCodec.decode(bytes, limits: DecodeLimits()) {
                case .train(let train):
                    guard answers(train.round) else { continue }
                    for message in extra(train) { try transport.send(message) }
                    for client in order(train.clients, train.round) {
                        let update = WireMessage.Update(
                            round: train.round, nonce: train.nonce, client: client, sampleCount: sampleCount(client), trainLoss: 0.5,
                            delta: delta(client, train.round), metrics: [:])
                        try transport.send(WireCodec.encode(.update(update)))
                    }
                case .shutdown: return
                default: continue
                }
            }
        }
    }

    static func run(
        _ config: ScenarioConfig, processes: (InProcessTransport) -> [ScriptedProcess]
    ) async throws -> (RunResult, [RoundMetrics]) {
        let hub = InProcessTransport()
        let records = RecordBox()
        let environment = CoordinatorEnvironment(
            config: config, testSet: testSet, rootSet: testSet, logger: Logger(label: "test")
        ) { records.append($0) }
        let coordinator = try Coordinator(environment: environment, transport: hub.server)
        let scripted = processes(hub)
        let result = try await withThrowingTaskGroup(of: RunResult?.self) { group in
            for process in scripted { group.addTask { try await process.run(); return nil } }
            group.addTask { try await coordinator.run() }
            var result: RunResult?
            for try await value in group { if let value { result = value } }
            return result!
        }
        return (result, records.values)
    }

    @Test func finalModelDoesNotDependOnArrivalOrder() async throws {
        let config = Self.config()
        let (inOrder, _) = try await Self.run(config) { hub in
            (0..<2).map { ScriptedProcess(index: $0, transport: hub.connect()) }
        }
        let (shuffled, _) = try await Self.run(config) { hub in
            (0..<2).map { index in
                ScriptedProcess(index: index, transport: hub.connect(), order: { clients, round in
                    var generator = SeededGenerator(seed: UInt64(round * 10 + index))
                    var copy = clients
                    generator.shuffle(&copy)
                    return copy.reversed()
                })
            }
        }
        #expect(inOrder.finalModel == shuffled.finalModel)

        // And it is FedAvg: w0 + sum over rounds of the sample-weighted mean delta.
        let plan = RoundPlan(config: config)
        var generator = plan.initialModelGenerator
        var expected = try config.model.makeModel().initialParameters(using: &generator).values
        let weights = (0..<4).map { Double(10 + $0) }
        for round in 1...3 {
            let deltas = (0..<4).map { Self.delta(client: $0, round: round).values }
            for coordinate in expected.indices {
                var sum = 0.0
                for client in 0..<4 { sum += weights[client] * Double(deltas[client][coordinate]) }
                expected[coordinate] += Float(sum / weights.reduce(0, +))
            }
        }
        let maxError = zip(expected, inOrder.finalModel.values).map { abs($0 - $1) }.max() ?? 0
        #expect(maxError < 1e-5)
    }

    @Test func badUpdatesAreRejectedWithReasonsAndTheRoundGoesOn() async throws {
        let config = Self.config(rounds: 2)
        let (result, records) = try await Self.run(config) { hub in
            [
                ScriptedProcess(index: 0, transport: hub.connect(), extra: { train in
                    let bad: [WireMessage] = [
                        // client 1 is hosted by process 1
                        .update(.init(round: train.round, nonce: train.nonce, client: ClientID(1), sampleCount: 5, trainLoss: 0, delta: CoordinatorTests.delta(client: 1, round: 1), metrics: [:])),
                        // a future round
                        .update(.init(round: train.round + 5, client: ClientID(0), sampleCount: 5, trainLoss: 0, delta: CoordinatorTests.delta(client: 0, round: 1), metrics: [:])),
                        // a wrong dimension
                        .update(.init(round: train.round, nonce: train.nonce, client: ClientID(0), sampleCount: 5, trainLoss: 0, delta: ParameterVector(zeros: 3), metrics: [:])),
                        // a replay: this round, but not the nonce its TRAIN carried
                        .update(.init(round: train.round, nonce: train.nonce &+ 1, client: ClientID(0), sampleCount: 5, trainLoss: 0, delta: CoordinatorTests.delta(client: 0, round: 1), metrics: [:])),
                        // zero samples
                        .update(.init(round: train.round, nonce: train.nonce, client: ClientID(2), sampleCount: 0, trainLoss: 0, delta: CoordinatorTests.delta(client: 2, round: 1), metrics: [:])),
                    ]
                    var encoded = bad.map { WireCodec.encode($0) }
                    // a NaN in the delta (re-encoded by hand so the CRC is valid)
                    var poisoned = CoordinatorTests.delta(client: 0, round: train.round)
                    poisoned.values[17] = .nan
                    encoded.append(WireCodec.encode(.update(.init(round: train.round, nonce: train.nonce, client: ClientID(0), sampleCount: 5, trainLoss: 0, delta: poisoned, metrics: [:]))))
                    encoded.append(Array("garbage".utf8))
                    return encoded
                }),
                ScriptedProcess(index: 1, transport: hub.connect()),
            ]
        }
        #expect(result.rounds.count == 2)
        let first = try #require(records.first)
        #expect(first.applied)
        #expect(first.accepted == Array(0..<4))
        let reasons = first.rejected.map(\.reason)
        #expect(first.rejectedCount == 7)
        #expect(first.rejectedByReason == ["not-hosted": 1, "future-round": 1, "undecodable": 3, "invalid-update": 1, "wrong-nonce": 1])
        #expect(reasons.count == 7, "\(reasons)")
        #expect(reasons.contains { $0.contains("replayed or forged") })
        #expect(reasons.contains { $0.contains("is not hosted by process 0") })
        #expect(reasons.contains { $0.contains("future round") })
        #expect(reasons.contains { $0.contains("dimension") })
        #expect(reasons.contains { $0.contains("claims 0 samples") })
        #expect(reasons.contains { $0.contains("non-finite") || $0.contains("nonFinite") || $0.contains("NaN") })
        #expect(reasons.contains { $0.contains("undecodable") })
        #expect(result.rejectedMessages == 14)
    }

    @Test func missingQuorumLeavesTheModelUnchangedAndCountsDropouts() async throws {
        let config = Self.config(rounds: 2, quorum: 0.75, timeout: 0.5)
        let (result, records) = try await Self.run(config) { hub in
            [
                ScriptedProcess(index: 0, transport: hub.connect()),
                // Process 1 never answers round 1, then is dropped; it hosts clients 1 and 3.
                ScriptedProcess(index: 1, transport: hub.connect(), answers: { _ in false }),
            ]
        }
        #expect(records.map(\.applied) == [false, false])
        #expect(records[0].dropped == [1, 3])
        #expect(records[0].degraded?.contains("quorum not met: 2 of 4") == true)
        #expect(result.dropouts == 4)
        #expect(result.droppedClients == [ClientID(1), ClientID(3)])
        let plan = RoundPlan(config: config)
        var generator = plan.initialModelGenerator
        let initial = try config.model.makeModel().initialParameters(using: &generator)
        #expect(result.finalModel == initial)
    }
}

extension CoordinatorTests {
    /// A process whose connection is replaced mid-round (a transport that reconnected and said
    /// HELLO again) is bound to the new connection, trained again for the round in progress,
    /// and not counted as refused: the run is the one with no reconnection.
    @Test func aProcessThatSaysHelloAgainMidRoundIsTrainedAgainThere() async throws {
        let config = Self.config(rounds: 2, quorum: 1.0, timeout: 30)
        let (plain, _) = try await Self.run(config) { hub in (0..<2).map { ScriptedProcess(index: $0, transport: hub.connect()) } }

        let hub = InProcessTransport()
        let records = RecordBox()
        let environment = CoordinatorEnvironment(config: config, testSet: Self.testSet, rootSet: Self.testSet, logger: Logger(label: "test")) {
            records.append($0)
        }
        let coordinator = try Coordinator(environment: environment, transport: hub.server)
        let first = ScriptedProcess(index: 0, transport: hub.connect())
        let old = hub.connect()
        let fresh = ScriptedProcess(index: 1, transport: hub.connect())
        let result = try await withThrowingTaskGroup(of: RunResult?.self) { group in
            group.addTask { try await first.run(); return nil }
            group.addTask {
                // Process 1's first connection takes round 1's TRAIN and goes silent; the
                // second says HELLO while round 1 waits for clients 1 and 3.
                try old.send(WireCodec.encode(.hello(WireMessage.Hello(processIndex: 1, clients: []))))
                for await bytes in old.inbound {
                    if case .train = try WireCodec.decode(bytes, limits: DecodeLimits()) { break }
                }
                try await fresh.run()
                return nil
            }
            group.addTask { try await coordinator.run() }
            var result: RunResult?
            for try await value in group { if let value { result = value } }
            return result!
        }
        #expect(records.values.map(\.applied) == [true, true])
        #expect(records.values.map(\.accepted) == [[0, 1, 2, 3], [0, 1, 2, 3]])
        #expect(result.dropouts == 0)
        #expect(result.rejectedMessages == 0)
        #expect(result.finalModel == plain.finalModel)
    }
}

extension CoordinatorTests {
    /// A coordinator killed after the last round's checkpoint but before its summary resumes
    /// to the end at once, from the checkpoint alone: no client needs to connect.
    @Test(.timeLimit(.minutes(1)))
    func aCheckpointAfterTheLastRoundFinishesWithoutClients() async throws {
        let config = Self.config(rounds: 3)
        let model = Self.delta(client: 2, round: 3)
        let checkpoint = Checkpoint(
            round: 3, model: model, pipeline: PipelineState(), detectionMetrics: DetectionMetrics(), dropouts: 2,
            droppedClients: [ClientID(1)], rejectedMessages: 5, ledgerHead: "", wallSeconds: 0, scenarioSHA256: "")
        let hub = InProcessTransport()
        let environment = CoordinatorEnvironment(config: config, testSet: Self.testSet, rootSet: Self.testSet, logger: Logger(label: "test")) { _ in
            Issue.record("no round may run")
        }
        let coordinator = try Coordinator(environment: environment, transport: hub.server)
        let result = try await coordinator.run(resumingFrom: checkpoint, earlierRounds: [])
        #expect(result.finalModel == model)
        #expect(result.dropouts == 2 && result.droppedClients == [ClientID(1)] && result.rejectedMessages == 5)
        #expect(result.rounds.isEmpty && result.connectedProcesses == 0)
    }
}

/// Collects round records from the coordinator's callback.
final class RecordBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [RoundMetrics] = []
    func append(_ record: RoundMetrics) { lock.withLock { stored.append(record) } }
    var values: [RoundMetrics] { lock.withLock { stored } }
}
