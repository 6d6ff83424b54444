import FedArenaCore
import FedArenaModels
import FedArenaNumerics
import FedArenaRuntime
import FedArenaWire
import Foundation
import Logging
import Testing

/// One client process (``ClientRuntime``) against a scripted coordinator over the in-process
/// transport, on real Fashion-MNIST: what it sends, and that it reports what it cannot do
/// instead of sending something else.
@Suite struct ClientRuntimeTests {
    static func config(attack: ComponentSpec? = nil) -> ScenarioConfig {
        var config = ScenarioConfig(
            name: "client-unit", seed: 5,
            dataset: DatasetConfig(partition: .iid, trainSubset: 800, testSubset: 100), model: .softmax,
            training: TrainingConfig(rounds: 1, batchSize: 50, learningRate: 0.1),
            clients: ClientsConfig(count: 4, perRound: 4, processes: 2), defense: DefenseConfig(),
            transport: TransportConfig(roundTimeoutSeconds: 5), output: OutputConfig())
        config.attack = attack
        return config
    }

    /// Plays the coordinator for one round: WELCOME, TRAIN for the process's clients, then
    /// collects what comes back until `until` says stop, and sends SHUTDOWN.
    static func serve(
        _ config: ScenarioConfig, processIndex: Int = 1, parameterCount: Int = 7850, hub: InProcessTransport = InProcessTransport(),
        runtime: ClientRuntime? = nil, until: @escaping @Sendable ([WireMessage]) -> Bool
    ) async throws -> (messages: [WireMessage], error: (any Error)?) {
        let runtime = runtime ?? ClientRuntime(transport: hub.connect(), processIndex: processIndex, logger: Logger(label: "client-test"))
        let client = Task { () -> (any Error)? in
            do {
                try await runtime.run()
                return nil
            } catch {
                return error
            }
        }
        var received = [WireMessage]()
        let plan = RoundPlan(config: config)
        var generator = plan.initialModelGenerator
        let model = try config.model.makeModel().initialParameters(using: &generator)
        for await message in hub.server.inbound {
            let decoded = try WireCodec.decode(message.payload)
            received.append(decoded)
            if case .hello = decoded {
                let json = Array(try JSONEncoder().encode(config))
                try hub.server.send(
                    WireCodec.encode(.welcome(.init(runID: "unit", scenarioJSON: json, parameterCount: parameterCount))), to: message.peer)
                try hub.server.send(
                    WireCodec.encode(.train(.init(round: 1, roundSeed: plan.roundSeed(1), clients: plan.clients(ofProcess: processIndex), model: model))),
                    to: message.peer)
            }
            if until(received) {
                try? hub.server.send(WireCodec.encode(.shutdown(.init(reason: "test done"))), to: message.peer)
                break
            }
        }
        return (received, await client.value)
    }

    @Test func trainsItsRoundRobinClientsDeterministicallyAndSaysWhatItTrainedOn() async throws {
        let config = Self.config()
        let done: @Sendable ([WireMessage]) -> Bool = { messages in messages.filter { if case .update = $0 { true } else { false } }.count == 2 }
        let first = try await Self.serve(config, until: done)
        let second = try await Self.serve(config, until: done)
        #expect(first.error == nil && second.error == nil)
        let updates = first.messages.compactMap { if case .update(let update) = $0 { update } else { nil } }
        // Process 1 of 2 hosts clients 1 and 3; IID over 800 training samples: 200 each.
        #expect(updates.map(\.client) == [ClientID(1), ClientID(3)])
        #expect(updates.map(\.sampleCount) == [200, 200])
        #expect(updates.allSatisfy { $0.round == 1 && $0.delta.count == 7850 && $0.trainLoss.isFinite && $0.delta.norm > 0 })
        let again = second.messages.compactMap { if case .update(let update) = $0 { update } else { nil } }
        #expect(again == updates)
        guard case .hello(let hello) = first.messages.first else {
            Issue.record("the first message was not HELLO")
            return
        }
        #expect(hello.processIndex == 1)
    }

    /// With `training-audit` each UPDATE carries a commitment to its steps, and the CHALLENGE
    /// the coordinator sends after it is answered by an OPENING the verifier accepts.
    @Test func underTheTrainingAuditUpdatesCommitAndChallengesAreOpenedVerifiably() async throws {
        var config = Self.config()
        config.defense.detection = [ComponentSpec(kind: "training-audit", options: ["random_steps": .int(1), "largest_steps": .int(1)], keyPath: "defense.detection[0]")]
        let hub = InProcessTransport()
        let runtime = ClientRuntime(transport: hub.connect(), processIndex: 1, logger: Logger(label: "client-test"))
        let client = Task { () -> (any Error)? in
            do { try await runtime.run() } catch { return error }
            return nil
        }
        let plan = RoundPlan(config: config)
        let modelSpec = try config.model.makeModel()
        var generator = plan.initialModelGenerator
        let global = modelSpec.initialParameters(using: &generator)
        let verifier = try TrainingAuditVerifier(
            request: TrainingAuditRequest(randomSteps: 1, largestSteps: 1), model: modelSpec, trainer: try LocalTrainer.Configuration(config.training),
            seed: config.seed, modelSpec: config.model)
        var updates = [ClientID: ClientUpdate]()
        var verdicts = [ClientID: TrainingAuditVerdict]()
        for await message in hub.server.inbound {
            switch try WireCodec.decode(message.payload) {
            case .hello:
                let json = Array(try JSONEncoder().encode(config))
                try hub.server.send(WireCodec.encode(.welcome(.init(runID: "unit", scenarioJSON: json, parameterCount: 7850))), to: message.peer)
                try hub.server.send(
                    WireCodec.encode(.train(.init(round: 1, roundSeed: plan.roundSeed(1), nonce: 77, clients: plan.clients(ofProcess: 1), model: global))),
                    to: message.peer)
            case .update(let update):
                var accepted = ClientUpdate(client: update.client, round: 1, sampleCount: update.sampleCount, delta: update.delta)
                accepted.commitment = update.commitment
                updates[update.client] = accepted
                let steps = try #require(update.commitment.map { verifier.challenge($0, round: 1, client: update.client) })
                try hub.server.send(WireCodec.encode(.challenge(.init(round: 1, nonce: 77, client: update.client, steps: steps))), to: message.peer)
            case .opening(let opening):
                verdicts[opening.client] = verifier.verify(try #require(updates[opening.client]), global: global, round: 1, openings: opening.openings)
            case let other:
                Issue.record("unexpected \(other)")
            }
            if verdicts.count == 2 {
                try hub.server.send(WireCodec.encode(.shutdown(.init(reason: "test done"))), to: message.peer)
                break
            }
        }
        #expect(await client.value == nil)
        // 200 samples in batches of 50: 4 steps; the last, the largest and one random are opened.
        #expect(updates.values.allSatisfy { $0.commitment?.stepCount == 4 })
        #expect(verdicts.keys.sorted() == [ClientID(1), ClientID(3)])
        for verdict in verdicts.values {
            #expect(verdict.passed, "\(verdict.message)")
            #expect(verdict.openedSteps.count == 3 && verdict.openedSteps.contains(4))
            #expect(verdict.samples?.count == 150)
        }
    }

    /// Partial poisoning (`poison_steps: 0.5`): each attacker trains half of its steps on whole
    /// poisoned batches and half on real ones, reports its real sample count, and commits to
    /// exactly the steps it took: the verifier recomputes every opened step, and of the 4 opened
    /// batches of 50 exactly 2 hold synthetic (off the 1/255 pixel grid) samples.
    @Test func partialPoisoningTrainsTheScheduleAndItsStepsVerify() async throws {
        var config = Self.config(attack: ComponentSpec(
            kind: "synthetic-poison",
            options: [
                "generator": .object(["kind": .string("gaussian-pca"), "small_classes": .string("shrink")]),
                "poison": .object(["kind": .string("label-flip"), "source": .int(0), "target": .int(6)]),
                "mix": .double(1), "fraction": .double(1), "poison_steps": .double(0.5),
            ], keyPath: "attack"))
        config.defense.detection = [ComponentSpec(kind: "training-audit", options: ["random_steps": .int(3), "largest_steps": .int(0)], keyPath: "defense.detection[0]")]
        let hub = InProcessTransport()
        let runtime = ClientRuntime(transport: hub.connect(), processIndex: 1, logger: Logger(label: "client-test"))
        let client = Task { () -> (any Error)? in
            do { try await runtime.run() } catch { return error }
            return nil
        }
        let plan = RoundPlan(config: config)
        let modelSpec = try config.model.makeModel()
        var generator = plan.initialModelGenerator
        let global = modelSpec.initialParameters(using: &generator)
        let verifier = try TrainingAuditVerifier(
            request: TrainingAuditRequest(randomSteps: 3, largestSteps: 0), model: modelSpec, trainer: try LocalTrainer.Configuration(config.training),
            seed: config.seed, modelSpec: config.model)
        var updates = [ClientID: ClientUpdate]()
        var verdicts = [ClientID: TrainingAuditVerdict]()
        for await message in hub.server.inbound {
            switch try WireCodec.decode(message.payload) {
            case .hello:
                let json = Array(try JSONEncoder().encode(config))
                try hub.server.send(WireCodec.encode(.welcome(.init(runID: "unit", scenarioJSON: json, parameterCount: 7850))), to: message.peer)
                try hub.server.send(
                    WireCodec.encode(.train(.init(round: 1, roundSeed: plan.roundSeed(1), nonce: 78, clients: plan.clients(ofProcess: 1), model: global))),
                    to: message.peer)
            case .update(let update):
                var accepted = ClientUpdate(client: update.client, round: 1, sampleCount: update.sampleCount, delta: update.delta)
                accepted.commitment = update.commitment
                updates[update.client] = accepted
                let steps = try #require(update.commitment.map { verifier.challenge($0, round: 1, client: update.client) })
                try hub.server.send(WireCodec.encode(.challenge(.init(round: 1, nonce: 78, client: update.client, steps: steps))), to: message.peer)
            case .opening(let opening):
                verdicts[opening.client] = verifier.verify(try #require(updates[opening.client]), global: global, round: 1, openings: opening.openings)
            case let other:
                Issue.record("unexpected \(other)")
            }
            if verdicts.count == 2 {
                try hub.server.send(WireCodec.encode(.shutdown(.init(reason: "test done"))), to: message.peer)
                break
            }
        }
        #expect(await client.value == nil)
        // 200 real samples (not the 400 rows of real + poisoned) in batches of 50: 4 steps, all opened.
        #expect(updates.values.allSatisfy { $0.sampleCount == 200 && $0.commitment?.stepCount == 4 })
        #expect(verdicts.keys.sorted() == [ClientID(1), ClientID(3)])
        for verdict in verdicts.values {
            #expect(verdict.passed, "\(verdict.message)")
            let samples = try #require(verdict.samples)
            #expect(samples.count == 200)
            let width = samples.featureCount
            let synthetic = (0..<samples.count).filter { row in
                samples.features[(row * width)..<((row + 1) * width)].contains { ($0 * 255).rounded(.toNearestOrAwayFromZero) / 255 != $0 }
            }
            // round(0.5 x 4) = 2 whole batches of poison.
            #expect(synthetic.count == 100)
        }
    }

    @Test func aModelMismatchIsReportedToTheCoordinator() async throws {
        let (messages, error) = try await Self.serve(Self.config(), parameterCount: 12) { messages in
            messages.contains { if case .error = $0 { true } else { false } }
        }
        let report = messages.compactMap { if case .error(let report) = $0 { report } else { nil } }.first
        #expect(report?.code == UInt16(ClientRuntime.ErrorCode.model))
        #expect(report?.message.contains("7850 parameters, the coordinator expects 12") == true)
        #expect((error as? RuntimeError)?.code == .protocolViolation)
    }

    /// A pooled attack whose adversary process does not answer must not quietly send the
    /// honest update: the process reports the failure (code `round`), which stops the run.
    @Test func anAttackWhoseAdversaryIsSilentIsReportedNotReplacedByTheHonestUpdate() async throws {
        let context = ZMQContext()
        let silentAdversary = try ZMQServerTransport(context: context, endpoint: "ipc:///tmp/fedarena-test-adversary-\(getpid()).sock")
        defer { silentAdversary.close() }
        var config = Self.config(attack: ComponentSpec(kind: "alie", options: ["fraction": .double(0.5), "knowledge": .string("partial")], keyPath: "attack"))
        config.transport.roundTimeoutSeconds = 1
        config.transport.adversaryEndpoint = silentAdversary.boundEndpoint
        let malicious = try AttackSetup.maliciousClients(for: config)
        let process = RoundPlan(config: config).clients(ofProcess: 0).contains(where: malicious.contains) ? 0 : 1
        let hub = InProcessTransport()
        let runtime = ClientRuntime(transport: hub.connect(), processIndex: process, adversaryContext: context, logger: Logger(label: "client-test"))
        let (messages, error) = try await Self.serve(config, processIndex: process, hub: hub, runtime: runtime) { messages in
            messages.contains { if case .error = $0 { true } else { false } }
        }
        let updates = messages.compactMap { if case .update(let update) = $0 { update } else { nil } }
        let report = messages.compactMap { if case .error(let report) = $0 { report } else { nil } }.first
        #expect(!updates.contains { malicious.contains($0.client) }, "a malicious client sent an update the attack did not craft")
        #expect(report?.code == UInt16(ClientRuntime.ErrorCode.round))
        #expect(report?.message.contains("the adversary answered 0 of") == true, "\(report?.message ?? "no report")")
        #expect(error != nil)
    }

    @Test func aPooledAttackWithoutAnAdversaryEndpointIsASetupError() async throws {
        let config = Self.config(attack: ComponentSpec(kind: "alie", options: ["fraction": .double(0.5), "knowledge": .string("partial")], keyPath: "attack"))
        let malicious = try AttackSetup.maliciousClients(for: config)
        let process = RoundPlan(config: config).clients(ofProcess: 0).contains(where: malicious.contains) ? 0 : 1
        let (messages, _) = try await Self.serve(config, processIndex: process) { messages in
            messages.contains { if case .error = $0 { true } else { false } }
        }
        let report = messages.compactMap { if case .error(let report) = $0 { report } else { nil } }.first
        #expect(report?.code == UInt16(ClientRuntime.ErrorCode.setup))
        #expect(report?.message.contains("no adversary endpoint") == true)
    }
}
