import FedArenaAttacks
import FedArenaCore
import FedArenaData
import FedArenaModels
import FedArenaWire
import Foundation
import Logging
import Synchronization

/// One client process: it hosts one or more logical clients, receives the scenario from the
/// coordinator, trains its clients when asked, and sends their updates.
///
/// The process needs only the coordinator's endpoint: the scenario arrives in WELCOME, the
/// data partition is recomputed locally from the seed (every process computes the same split),
/// and each logical client's training depends only on the seed, the round and the client,
/// never on which process runs it.
///
/// Malicious clients (chosen from the seed by the scenario's attack) train on poisoned data
/// (data attacks) and/or send crafted updates (update attacks). Attacks that pool updates send
/// the malicious clients' honest updates to the adversary process and forward what it crafts.
public struct ClientRuntime: Sendable {
    private let transport: any ClientTransport
    private let processIndex: Int
    private let explicitClients: [ClientID]
    private let dataDirectory: String?
    private let logger: Logger
    private let context: ZMQContext?

    /// Creates a client process runtime.
    /// - Parameters:
    ///   - transport: a transport connected to the coordinator.
    ///   - processIndex: this process's index in `0..<clients.processes`.
    ///   - clients: the logical clients to host, or empty for the round-robin share of
    ///     `processIndex`.
    ///   - dataDirectory: a dataset folder overriding the scenario's, for hosts whose data
    ///     lives elsewhere.
    ///   - adversaryContext: the ZeroMQ context for connecting to the adversary process, when
    ///     the scenario has one.
    ///   - logger: where progress and problems go.
    public init(
        transport: any ClientTransport, processIndex: Int, clients: [ClientID] = [], dataDirectory: String? = nil,
        adversaryContext: ZMQContext? = nil, logger: Logger
    ) {
        self.transport = transport
        self.processIndex = processIndex
        self.explicitClients = clients
        self.dataDirectory = dataDirectory
        self.context = adversaryContext
        self.logger = logger
    }

    private enum Inbound: Sendable {
        case coordinator([UInt8])
        case adversary([UInt8])
        case silence(UInt64)
        case closed
    }

    /// The events of this process, from the coordinator, the adversary and timers. Used by the
    /// one task that runs the process (not `Sendable`): the forwarding tasks hold only the
    /// stream's continuation, which is.
    private final class Events {
        let stream: AsyncStream<Inbound>
        let continuation: AsyncStream<Inbound>.Continuation
        var iterator: AsyncStream<Inbound>.Iterator
        var tasks: [Task<Void, Never>] = []
        /// Forwarded events not taken yet (timer events are not counted).
        let buffered = BufferedCount()

        /// A count shared with the forwarding tasks.
        final class BufferedCount: Sendable {
            let value = Atomic<Int>(0)
        }

        init() {
            (stream, continuation) = AsyncStream<Inbound>.makeStream()
            iterator = stream.makeAsyncIterator()
        }

        func forward(_ source: AsyncStream<[UInt8]>, as wrap: @escaping @Sendable ([UInt8]) -> Inbound, closing: Bool) {
            let continuation = self.continuation
            let buffered = self.buffered
            tasks.append(Task {
                for await bytes in source {
                    buffered.value.add(1, ordering: .sequentiallyConsistent)
                    continuation.yield(wrap(bytes))
                }
                if closing {
                    buffered.value.add(1, ordering: .sequentiallyConsistent)
                    continuation.yield(.closed)
                }
            })
        }

        /// Whether a forwarded event is waiting, so that ``next(timeout:)`` returns at once.
        var hasWaiting: Bool { buffered.value.load(ordering: .sequentiallyConsistent) > 0 }

        /// The next event, or `.silence` after `timeout` seconds without one.
        func next(timeout: Double) async -> Inbound {
            let token = UInt64.random(in: 1...UInt64.max)
            let continuation = self.continuation
            let timer = Task {
                try? await Task.sleep(for: .seconds(timeout))
                if !Task.isCancelled { continuation.yield(.silence(token)) }
            }
            defer { timer.cancel() }
            while true {
                switch await iterator.next() {
                case .silence(let fired)? where fired != token: continue
                case .silence?: return .silence(token)
                case let event?:
                    buffered.value.subtract(1, ordering: .sequentiallyConsistent)
                    return event
                case nil: return .closed
                }
            }
        }

        func stop() {
            for task in tasks { task.cancel() }
            continuation.finish()
        }
    }

    /// Says HELLO, waits for WELCOME, then serves TRAIN requests until SHUTDOWN.
    /// - Throws: ``RuntimeError`` when the coordinator is silent for too long, refuses this
    ///   process, or the dataset is missing (the coordinator is told before exiting).
    public func run() async throws(RuntimeError) {
        let events = Events()
        events.forward(transport.inbound, as: { .coordinator($0) }, closing: true)
        defer { events.stop() }
        let label = "\(ProcessInfo.processInfo.hostName) pid \(getpid())"
        try send(.hello(WireMessage.Hello(processIndex: processIndex, clients: explicitClients, label: label)))

        // WELCOME carries the scenario.
        guard case .welcome(let welcome) = try await nextFromCoordinator(events, timeout: 120, limits: DecodeLimits()) else {
            throw RuntimeError(.protocolViolation, "the coordinator's first message was not WELCOME")
        }
        let config: ScenarioConfig
        do {
            config = try JSONDecoder().decode(ScenarioConfig.self, from: Data(welcome.scenarioJSON))
        } catch {
            throw RuntimeError(.protocolViolation, "cannot decode the scenario in WELCOME: \(error)")
        }
        let silence = max(120, 10 * config.transport.roundTimeoutSeconds)
        let plan = RoundPlan(config: config)
        let hosted = explicitClients.isEmpty ? plan.clients(ofProcess: processIndex) : explicitClients
        logger.info("process \(processIndex): run \(welcome.runID), hosting \(hosted.count) clients")

        let engine: ModelEngine
        let attack: AttackEngine?
        let requirements: DetectorRequirements
        let federation: FederationData
        var poisoned = [ClientID: AttackEngine.PoisonedTraining]()
        do {
            engine = try ModelEngine(config: config)
            attack = try AttackEngine(config: config)
            requirements = try Self.detectionRequirements(config)
            // Only the hosted clients' rows, kept compact; a client's float32 shard is made when it trains.
            federation = try FederationData.load(config: config, role: .clients(hosted), directoryOverride: dataDirectory)
            if let attack {
                for client in hosted where attack.isMalicious(client) {
                    if let shard = federation.shard(for: client), let bad = try attack.poisoned(shard, client: client, seed: config.seed) {
                        poisoned[client] = bad
                    }
                }
            }
        } catch {
            report(error, code: ErrorCode.setup)
            throw error
        }
        guard engine.parameterCount == welcome.parameterCount else {
            let error = RuntimeError(
                .protocolViolation, "model has \(engine.parameterCount) parameters, the coordinator expects \(welcome.parameterCount)")
            report(error, code: ErrorCode.model)
            throw error
        }
        let adversary: ZMQClientTransport?
        do {
            adversary = try connectAdversary(config: config, attack: attack, hosted: hosted, events: events)
        } catch {
            report(error, code: ErrorCode.setup)
            throw error
        }
        defer { adversary?.close() }
        if let attack, !poisoned.isEmpty || hosted.contains(where: attack.isMalicious) {
            logger.info("process \(processIndex): malicious clients \(hosted.filter(attack.isMalicious).map(\.rawValue)) (\(attack.plan.kind))")
        }
        let limits = DecodeLimits(expectedParameterCount: engine.parameterCount)
        let trainer = engine.makeTrainer()
        var compressor = UpdateCompressor(config.transport)

        var deferred = [WireMessage]()
        // The training audit's transcripts of the last TRAIN, until their CHALLENGE is answered.
        var transcripts = [ClientID: (round: Int, nonce: UInt64, transcript: StepTranscript)]()
        while true {
            let message: WireMessage
            if deferred.isEmpty {
                message = try await nextFromCoordinator(events, timeout: silence, limits: limits)
            } else {
                message = deferred.removeFirst()
            }
            switch message {
            case .train(let train):
                // A process that fell behind (stopped, overloaded, reconnected) may hold TRAINs
                // of several rounds. Only the newest can still count: the coordinator sends a
                // round's TRAIN once the previous round stopped collecting, so an update for an
                // older round would be ignored as late. Skipping those lets the process catch up
                // instead of staying behind by its backlog; results do not change.
                try await takeWaiting(events, limits: limits, into: &deferred)
                if let newer = deferred.lazy.compactMap({ if case .train(let next) = $0 { next.round } else { nil } }).max(),
                    newer > train.round
                {
                    logger.notice("process \(processIndex): skipped the TRAIN of round \(train.round), round \(newer)'s is waiting")
                    continue
                }
                transcripts.removeAll()
                do throws(RuntimeError) {
                    try await serve(
                        train, engine: engine, trainer: trainer, plan: plan, config: config, federation: federation, poisoned: poisoned,
                        attack: attack, requirements: requirements, adversary: adversary, events: events, deferred: &deferred,
                        limits: limits, compressor: &compressor, transcripts: &transcripts)
                } catch {
                    // A client that cannot train, sketch or craft as the scenario says would
                    // make the run's numbers wrong: the coordinator is told, and stops the run.
                    report(error, code: ErrorCode.round)
                    throw error
                }
            case .challenge(let challenge):
                guard let kept = transcripts[challenge.client], kept.round == challenge.round, kept.nonce == challenge.nonce else {
                    logger.warning("process \(processIndex): CHALLENGE for \(challenge.client) in round \(challenge.round) matches no kept transcript; ignored")
                    continue
                }
                transcripts[challenge.client] = nil
                let opening = WireMessage.Opening(
                    round: challenge.round, nonce: challenge.nonce, client: challenge.client, openings: kept.transcript.openings(challenge.steps))
                do throws(RuntimeError) { try send(.opening(opening)) } catch {
                    report(error, code: ErrorCode.round)
                    throw error
                }
            case .shutdown(let shutdown):
                logger.info("process \(processIndex): shutdown (\(shutdown.reason))")
                return
            case .error(let report):
                throw RuntimeError(.protocolViolation, "the coordinator refused process \(processIndex): \(report.message)")
            case .welcome:
                logger.notice("process \(processIndex): repeated WELCOME ignored")
            case let other:
                logger.warning("process \(processIndex): unexpected \(other.kindName) ignored")
            }
        }
    }

    /// The `ERROR` codes a client process reports.
    public enum ErrorCode {
        /// Setup failed (dataset, scenario, attack); the process's clients drop out.
        public static let setup = 10
        /// The model does not match the coordinator's.
        public static let model = 11
        /// A round could not be served as the scenario says (training, sketch, attack craft,
        /// adversary): the coordinator stops the run, whose numbers would be wrong.
        public static let round = 20
    }

    /// Tells the coordinator why this process stops (best effort: the process is failing
    /// anyway, and a failure to send is logged).
    private func report(_ error: RuntimeError, code: Int) {
        do {
            try send(.error(WireMessage.ErrorReport(code: UInt16(code), message: "process \(processIndex): \(error)")))
        } catch {
            logger.error("process \(processIndex): cannot report its failure to the coordinator: \(error)")
        }
    }

    /// Trains the clients `train` names and sends their updates.
    private func serve(
        _ train: WireMessage.Train, engine: ModelEngine, trainer: LocalTrainer, plan: RoundPlan, config: ScenarioConfig,
        federation: FederationData, poisoned: [ClientID: AttackEngine.PoisonedTraining], attack: AttackEngine?,
        requirements: DetectorRequirements, adversary: ZMQClientTransport?, events: Events, deferred: inout [WireMessage],
        limits: DecodeLimits, compressor: inout UpdateCompressor,
        transcripts: inout [ClientID: (round: Int, nonce: UInt64, transcript: StepTranscript)]
    ) async throws(RuntimeError) {
        var pooled = [WireMessage.Update]()
        for client in train.clients {
            guard let shard = federation.shard(for: client) else {
                logger.warning("asked to train \(client), which this process does not host")
                continue
            }
            let attacking = attack?.attacks(client, round: train.round) ?? false
            let training = attacking ? poisoned[client] : nil
            let data = training?.samples ?? shard
            // The training audit: commit to every step while training (the transcript is the observer).
            let transcript = requirements.trainingAudit == nil
                ? nil : StepTranscript(global: train.model, featureCount: data.featureCount, classCount: data.classCount)
            let observer: LocalTrainer.StepObserver? = transcript.map { transcript in
                { step, inputs, labels, after in transcript.record(step: step, inputs: inputs, labels: labels, weightsAfter: after) }
            }
            // Partial poisoning: this round's mix of real and poisoned batches, over the real count.
            var schedule: PoisonStepSchedule?
            var sampleCount = data.count
            if case .steps(let steps)? = training, let attack {
                schedule = try attack.schedule(
                    steps, client: client, round: train.round, seed: config.seed, epochs: config.training.localEpochs,
                    batchSize: config.training.batchSize)
                sampleCount = steps.realCount
            }
            let result = try engine.train(
                global: train.model, on: data, schedule: schedule, client: client, round: train.round, plan: plan, using: trainer, observe: observer)
            var update = WireMessage.Update(
                round: train.round, nonce: train.nonce, client: client, sampleCount: sampleCount, trainLoss: result.loss, delta: result.delta, metrics: [:])
            if let transcript {
                update.commitment = transcript.commitment()
                transcripts[client] = (train.round, train.nonce, transcript)
            }
            if let sketch = requirements.sketch {
                // An attacker that forges its sketch summarises its real data instead.
                let sketched = attacking && attack?.plan.forgesSketch == true ? shard : data
                update.sketch = try DetectionEngine.sketch(sketched, request: sketch, roundSeed: train.roundSeed, client: client, seed: config.seed)
            }
            if let count = requirements.revealedSamples, requirements.trainingAudit == nil {
                // The opt-in audit: the client reveals k of the samples it trained on.
                update.auditSamples = DetectionEngine.auditSamples(
                    data, count: count, roundSeed: train.roundSeed, client: client, seed: config.seed)
            }
            if attacking, let attack, attack.plan.updateAttack != nil {
                if attack.usesAdversary, adversary != nil {
                    pooled.append(update)
                    continue
                }
                update.delta = try attack.craft(
                    round: train.round, malicious: [update.delta], benign: [], totalClients: train.clients.count,
                    seed: config.seed, targetRule: config.defense.aggregator.kind, f: nil, clients: [client])[0]
            }
            // Compressed last, on what is actually sent (a crafted update included).
            try send(.update(compressor.compress(update)))
        }
        if !pooled.isEmpty, let adversary {
            let crafted = try await exchange(
                pooled, with: adversary, events: events, deferred: &deferred, limits: limits,
                timeout: 0.8 * config.transport.roundTimeoutSeconds)
            for update in crafted { try send(.update(compressor.compress(update))) }
        }
    }

    private static func detectionRequirements(_ config: ScenarioConfig) throws(RuntimeError) -> DetectorRequirements {
        do {
            return try DetectionEngine(config: config)?.requirements ?? DetectorRequirements()
        } catch {
            throw RuntimeError(.configuration, "cannot set up what the detectors need: \(error)", cause: error)
        }
    }

    private func connectAdversary(config: ScenarioConfig, attack: AttackEngine?, hosted: [ClientID], events: Events) throws(RuntimeError) -> ZMQClientTransport? {
        guard let attack, attack.usesAdversary, hosted.contains(where: attack.isMalicious) else { return nil }
        guard let endpoint = config.transport.adversaryEndpoint, let context else {
            throw RuntimeError(
                .configuration,
                "\(attack.plan.kind) with knowledge \(attack.plan.knowledge.rawValue) pools the malicious updates in the adversary process, "
                    + "but this process was given no adversary endpoint (transport.adversary_endpoint); its malicious clients cannot attack")
        }
        do {
            let link = try ZMQClientTransport(context: context, endpoint: endpoint)
            events.forward(link.inbound, as: { .adversary($0) }, closing: false)
            return link
        } catch {
            throw RuntimeError(.transport, "cannot connect to the adversary at \(endpoint): \(error)", cause: error)
        }
    }

    /// Sends the malicious clients' honest updates to the adversary and returns what it
    /// crafted (the honest update for any client it did not answer in time).
    private func exchange(
        _ honest: [WireMessage.Update], with adversary: ZMQClientTransport, events: Events, deferred: inout [WireMessage],
        limits: DecodeLimits, timeout: Double
    ) async throws(RuntimeError) -> [WireMessage.Update] {
        for update in honest {
            do {
                try adversary.send(WireCodec.encode(.update(update)))
            } catch {
                throw RuntimeError(.transport, "cannot send \(update.client)'s update to the adversary: \(error)", cause: error)
            }
        }
        var crafted = [ClientID: WireMessage.Update]()
        let wanted = Set(honest.map(\.client))
        let deadline = ContinuousClock.now + .seconds(timeout)
        while crafted.count < wanted.count {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else { break }
            switch await events.next(timeout: Double(remaining.components.seconds) + Double(remaining.components.attoseconds) * 1e-18) {
            case .adversary(let bytes):
                do {
                    if case .update(let update) = try WireCodec.decode(bytes, limits: limits), wanted.contains(update.client),
                        update.round == honest[0].round
                    {
                        crafted[update.client] = update
                    } else {
                        logger.warning("process \(processIndex): a reply from the adversary that answers none of this round's updates was ignored")
                    }
                } catch {
                    logger.warning("process \(processIndex): undecodable reply from the adversary ignored: \(error)")
                }
            case .coordinator(let bytes):
                do {
                    deferred.append(try WireCodec.decode(bytes, limits: limits))
                } catch {
                    logger.warning("process \(processIndex): undecodable message from the coordinator ignored: \(error)")
                }
            case .silence: break
            case .closed: throw RuntimeError(.coordinatorLost, "the connection to the coordinator closed")
            }
        }
        if crafted.count < wanted.count {
            let missing = wanted.subtracting(crafted.keys).sorted().map(\.description).joined(separator: ", ")
            throw RuntimeError(
                .transport,
                "the adversary answered \(crafted.count) of \(wanted.count) updates within \(Int(timeout)) s (missing: \(missing)); "
                    + "sending honest updates instead would misstate the attack")
        }
        return honest.map { update in
            guard let reply = crafted[update.client] else { return update }
            var forwarded = update
            forwarded.delta = reply.delta
            return forwarded
        }
    }

    private func send(_ message: WireMessage) throws(RuntimeError) {
        do {
            try transport.send(WireCodec.encode(message))
        } catch {
            throw RuntimeError(.transport, "cannot send to the coordinator: \(error)", cause: error)
        }
    }

    /// Moves the coordinator's messages that already arrived into `deferred`, in order, without waiting.
    private func takeWaiting(_ events: Events, limits: DecodeLimits, into deferred: inout [WireMessage]) async throws(RuntimeError) {
        while events.hasWaiting {
            switch await events.next(timeout: 120) {
            case .coordinator(let bytes):
                do {
                    deferred.append(try WireCodec.decode(bytes, limits: limits))
                } catch {
                    logger.warning("process \(processIndex): undecodable message from the coordinator ignored: \(error)")
                }
            case .adversary, .silence: continue
            case .closed: throw RuntimeError(.coordinatorLost, "the connection to the coordinator closed")
            }
        }
    }

    private func nextFromCoordinator(_ events: Events, timeout: Double, limits: DecodeLimits) async throws(RuntimeError) -> WireMessage {
        while true {
            switch await events.next(timeout: timeout) {
            case .coordinator(let bytes):
                do {
                    return try WireCodec.decode(bytes, limits: limits)
                } catch {
                    logger.warning("process \(processIndex): undecodable message from the coordinator ignored: \(error)")
                }
            case .adversary: continue
            case .silence: throw RuntimeError(.coordinatorLost, "no message from the coordinator for \(Int(timeout)) s")
            case .closed: throw RuntimeError(.coordinatorLost, "the connection to the coordinator closed")
            }
        }
    }
}
