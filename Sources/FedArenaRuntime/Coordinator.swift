import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import FedArenaWire
import Foundation
import Logging

/// The coordinator of a federated run: it owns the global model, sends TRAIN to the client
/// processes each round, validates and merges their UPDATEs, evaluates and records.
///
/// The round state machine runs in this actor; messages arrive through a ``ServerTransport``
/// (ZeroMQ in production, in-process in unit tests). Nothing a client sends can stop the run:
/// undecodable, stale, duplicate, misattributed or non-finite messages are rejected with a
/// logged reason and recorded in the round's ``RoundRecord``. A client process that dies or is
/// late misses the round (recorded as a dropout); the round is applied when the quorum is met.
///
/// Determinism: updates are merged in ``ClientID`` order, and every random stream derives from
/// the scenario seed (``RoundPlan``), so the final model does not depend on the number of
/// client processes or on the order in which updates arrive.
public actor Coordinator {
    private enum Event: Sendable {
        case message(InboundMessage)
        case deadline(Int)
        case closed
    }

    private struct HostedProcess {
        var index: Int
        var peer: PeerID
        var clients: [ClientID]
        var alive: Bool
        var label: String
    }

    private struct RoundState {
        var round: Int
        var selected: [ClientID]
        var pending: Set<ClientID>
        var updates: [ClientID: ClientUpdate] = [:]
        var dropped: Set<ClientID> = []
        var rejections: [RoundRecord.Rejection] = []
        var lateUpdates = 0
        var started: ContinuousClock.Instant
        var collected: ContinuousClock.Instant?
    }

    private let environment: CoordinatorEnvironment
    private let transport: any ServerTransport
    private let plan: RoundPlan
    private let engine: ModelEngine
    private let defense: DefenseEngine
    private let limits: DecodeLimits
    private let logger: Logger
    private let welcome: [UInt8]
    private let attack: AttackEngine?
    private let detection: DetectionEngine?
    private var detectionMemory = AggregatorMemory()
    private var detectionMetrics = DetectionMetrics()
    private let auditReference: LabeledSamples?
    private let successProbe: (samples: LabeledSamples, target: Int)?

    private var processes: [Int: HostedProcess] = [:]
    private var processOfPeer: [PeerID: Int] = [:]
    private var hostOfClient: [ClientID: Int] = [:]
    private var rejectedMessages = 0
    private var processErrors = [Int: String]()

    /// Creates a coordinator.
    /// - Parameters:
    ///   - environment: the scenario, the coordinator's data and the round callback.
    ///   - transport: a bound server transport.
    /// - Throws: ``RuntimeError`` `.configuration` when the model or aggregation rule cannot be
    ///   built from the scenario.
    public init(environment: CoordinatorEnvironment, transport: any ServerTransport) throws(RuntimeError) {
        self.environment = environment
        self.transport = transport
        self.plan = RoundPlan(config: environment.config)
        self.engine = try ModelEngine(config: environment.config)
        self.defense = try DefenseEngine(config: environment.config)
        self.logger = environment.logger
        self.limits = DecodeLimits(expectedParameterCount: engine.parameterCount)
        self.attack = try AttackEngine(config: environment.config)
        do {
            self.detection = try DetectionEngine(config: environment.config)
        } catch {
            throw RuntimeError(.configuration, "cannot build the detectors: \(error)", cause: error)
        }
        self.auditReference = detection?.auditSamplesPerClient == nil
            ? nil : DetectionEngine.referenceSynthetic(rootSet: environment.rootSet, seed: environment.config.seed)
        self.successProbe = attack?.successProbe(testSet: environment.testSet)
        let scenarioJSON: [UInt8]
        do {
            scenarioJSON = Array(try JSONEncoder().encode(environment.config))
        } catch {
            throw RuntimeError(.configuration, "cannot encode the scenario for clients: \(error)")
        }
        self.welcome = WireCodec.encode(
            .welcome(WireMessage.Welcome(runID: environment.config.name, scenarioJSON: scenarioJSON, parameterCount: engine.parameterCount)))
    }

    /// Runs the whole scenario: waits for the client processes, runs every round, and sends
    /// SHUTDOWN.
    /// - Returns: the per-round records and the final model.
    /// - Throws: ``RuntimeError`` `.connectTimeout` when too few clients connect in time.
    public func run() async throws(RuntimeError) -> RunResult {
        let config = environment.config
        let (events, continuation) = AsyncStream<Event>.makeStream()
        let inbound = transport.inbound
        let forwarder = Task {
            for await message in inbound { continuation.yield(.message(message)) }
            continuation.yield(.closed)
        }
        defer {
            forwarder.cancel()
            continuation.finish()
        }
        var iterator = events.makeAsyncIterator()

        // Phase 1: every client process says HELLO.
        let connectDeadline = schedule(.deadline(0), after: config.transport.connectTimeoutSeconds, on: continuation)
        waiting: while processes.count < config.clients.processes {
            switch await iterator.next() {
            case .message(let message)?: handleOutsideRound(message)
            case .deadline(0)?: break waiting
            case .closed?, nil: break waiting
            case .deadline?: continue
            }
        }
        connectDeadline.cancel()
        let hosted = hostOfClient.count
        let needed = Int((config.clients.quorum * Double(config.clients.count)).rounded(.up))
        if hosted < max(1, needed) {
            let missing = (0..<config.clients.processes).filter { processes[$0] == nil }
            broadcast(.shutdown(WireMessage.Shutdown(reason: "too few client processes connected")))
            throw RuntimeError(
                .connectTimeout,
                "only \(processes.count) of \(config.clients.processes) client processes connected within "
                    + "\(config.transport.connectTimeoutSeconds) s (missing process indexes: \(missing.map(String.init).joined(separator: ", "))); "
                    + "\(hosted) of \(config.clients.count) clients are hosted, the quorum needs \(needed)")
        }
        if processes.count < config.clients.processes {
            logger.warning("starting with \(processes.count) of \(config.clients.processes) client processes; the missing ones' clients count as dropouts")
        }

        // Phase 2: rounds. The next round's TRAIN goes out before this round is evaluated, so
        // clients train while the coordinator evaluates.
        var model = engine.initialParameters(plan: plan)
        var previousAggregate: ParameterVector?
        var memory = AggregatorMemory()
        var records = [RoundRecord]()
        var dropouts = 0
        var droppedClients = Set<ClientID>()
        var state = startRound(1, model: model)
        for round in 1...config.training.rounds {
            if !processes.values.contains(where: \.alive), !processErrors.isEmpty {
                broadcast(.shutdown(WireMessage.Shutdown(reason: "every client process failed")))
                let reports = processErrors.keys.sorted().map { "process \($0): \(processErrors[$0]!)" }
                throw RuntimeError(
                    .configuration, "every client process failed before round \(round); first report: \(reports.first ?? "")"
                        + (reports.count > 1 ? " (and \(reports.count - 1) more in coordinator.log)" : ""))
            }
            let deadline = schedule(.deadline(round), after: config.transport.roundTimeoutSeconds, on: continuation)
            collecting: while !state.pending.isEmpty {
                switch await iterator.next() {
                case .message(let message)?: handle(message, in: &state)
                case .deadline(let token)? where token == round: break collecting
                case .deadline?: continue
                case .closed?, nil: break collecting
                }
            }
            deadline.cancel()
            state.collected = .now
            closeCollection(&state)
            dropouts += state.dropped.count
            droppedClients.formUnion(state.dropped)

            let aggregateStart = ContinuousClock.now
            let outcome = merge(state, model: model, previousAggregate: previousAggregate, memory: memory)
            if let step = outcome.step {
                engine.apply(step: step, to: &model, globalLearningRate: config.training.globalLearningRate)
                previousAggregate = step
            }
            if let newMemory = outcome.memory { memory = newMemory }
            let aggregateSeconds = aggregateStart.duration(to: .now).seconds

            let finished = state
            if round < config.training.rounds { state = startRound(round + 1, model: model) }
            let evaluation = engine.evaluate(model, on: environment.testSet)
            var record = makeRecord(finished, outcome: outcome, evaluation: evaluation, aggregateSeconds: aggregateSeconds)
            record.modelSHA256 = RunRecorder.sha256(model)
            if let successProbe {
                record.attackSuccessRate = engine.successRate(model, probe: successProbe.samples, target: successProbe.target)
            }
            records.append(record)
            environment.onRound(record)
        }
        broadcast(.shutdown(WireMessage.Shutdown(reason: "run complete")))
        return RunResult(
            rounds: records, finalModel: model, dropouts: dropouts, droppedClients: droppedClients.sorted(),
            rejectedMessages: rejectedMessages, connectedProcesses: processes.count,
            maliciousClients: attack?.maliciousClients ?? [],
            detection: detection == nil ? nil : detectionMetrics.summary)
    }

    // MARK: - Messages

    private func handleOutsideRound(_ message: InboundMessage) {
        switch decode(message) {
        case .success(.hello(let hello)): register(hello, from: message.peer)
        case .success(.error(let report)): processFailed(peer: message.peer, report: report)
        case .success(let other): reject(message.peer, client: nil, "unexpected \(other.kindName) before the first round")
        case .failure(let error): reject(message.peer, client: nil, "undecodable message (\(message.payload.count) bytes): \(error)")
        }
    }

    private func handle(_ message: InboundMessage, in state: inout RoundState) {
        switch decode(message) {
        case .success(.update(let update)): accept(update, from: message.peer, in: &state)
        case .success(.hello(let hello)): register(hello, from: message.peer)
        case .success(.error(let report)):
            if let index = processFailed(peer: message.peer, report: report) {
                for client in processes[index]?.clients ?? [] where state.pending.remove(client) != nil {
                    state.dropped.insert(client)
                }
            }
        case .success(let other):
            state.rejections.append(reject(message.peer, client: nil, "unexpected \(other.kindName) from a client"))
        case .failure(let error):
            state.rejections.append(reject(message.peer, client: nil, "undecodable message (\(message.payload.count) bytes): \(error)"))
        }
    }

    private func decode(_ message: InboundMessage) -> Result<WireMessage, WireError> {
        Result { () throws(WireError) in try WireCodec.decode(message.payload, limits: limits) }
    }

    @discardableResult
    private func reject(_ peer: PeerID, client: ClientID?, _ reason: String) -> RoundRecord.Rejection {
        rejectedMessages += 1
        let sender = processOfPeer[peer].map { "process \($0)" } ?? peer.description
        logger.warning("rejected a message from \(sender): \(reason)")
        return RoundRecord.Rejection(client: client, peer: sender, reason: reason)
    }

    private func register(_ hello: WireMessage.Hello, from peer: PeerID) {
        let config = environment.config
        guard (0..<config.clients.processes).contains(hello.processIndex) else {
            reject(peer, client: nil, "HELLO with process index \(hello.processIndex) outside 0..<\(config.clients.processes)")
            send(.error(WireMessage.ErrorReport(code: 1, message: "process index \(hello.processIndex) is outside 0..<\(config.clients.processes)")), to: peer)
            return
        }
        let clients = hello.clients.isEmpty ? plan.clients(ofProcess: hello.processIndex) : hello.clients.sorted()
        for client in clients {
            let outOfRange = !(0..<config.clients.count).contains(client.rawValue)
            let takenElsewhere = hostOfClient[client].map { $0 != hello.processIndex } ?? false
            if outOfRange || takenElsewhere {
                let reason = outOfRange ? "\(client) does not exist" : "\(client) is already hosted by process \(hostOfClient[client]!)"
                reject(peer, client: client, "HELLO from process \(hello.processIndex) refused: \(reason)")
                send(.error(WireMessage.ErrorReport(code: 2, message: reason)), to: peer)
                return
            }
        }
        if let previous = processes[hello.processIndex] {
            processOfPeer[previous.peer] = nil
            logger.notice("process \(hello.processIndex) reconnected (\(hello.label))")
        } else {
            logger.info("process \(hello.processIndex) connected (\(hello.label)), hosting \(clients.count) clients")
        }
        processes[hello.processIndex] = HostedProcess(index: hello.processIndex, peer: peer, clients: clients, alive: true, label: hello.label)
        processOfPeer[peer] = hello.processIndex
        for client in clients { hostOfClient[client] = hello.processIndex }
        send(welcome, to: peer)
    }

    @discardableResult
    private func processFailed(peer: PeerID, report: WireMessage.ErrorReport) -> Int? {
        guard let index = processOfPeer[peer] else {
            logger.warning("error report from an unknown \(peer): \(report.message)")
            return nil
        }
        logger.error("process \(index) reported an error and is dropped: \(report.message)")
        processes[index]?.alive = false
        processErrors[index] = report.message
        return index
    }

    private func accept(_ update: WireMessage.Update, from peer: PeerID, in state: inout RoundState) {
        guard let index = processOfPeer[peer] else {
            state.rejections.append(reject(peer, client: update.client, "UPDATE from a peer that never said HELLO"))
            return
        }
        if update.round < state.round {
            state.lateUpdates += 1
            logger.info("late update from \(update.client) for round \(update.round) (now round \(state.round)) ignored")
            return
        }
        let reason: String?
        if update.round > state.round {
            reason = "update for future round \(update.round) (now round \(state.round))"
        } else if hostOfClient[update.client] != index {
            reason = "\(update.client) is not hosted by process \(index)"
        } else if state.updates[update.client] != nil {
            reason = "duplicate update from \(update.client)"
        } else if !state.pending.contains(update.client) {
            reason = "\(update.client) was not asked to train in round \(state.round)"
        } else if update.sampleCount < 1 || update.sampleCount > 100_000_000 {
            reason = "\(update.client) claims \(update.sampleCount) samples"
        } else {
            reason = nil
        }
        if let reason {
            state.rejections.append(reject(peer, client: update.client, reason))
            return
        }
        state.pending.remove(update.client)
        if let link = environment.adversaryLink, let attack, attack.omniscient, !attack.isMalicious(update.client) {
            var shared = update
            shared.metrics = ["benign": 1]
            try? link.send(WireCodec.encode(.update(shared)))
        }
        state.updates[update.client] = ClientUpdate(
            client: update.client, round: update.round, sampleCount: update.sampleCount, delta: update.delta,
            trainLoss: update.trainLoss, sketch: update.sketch)
        state.updates[update.client]?.auditSamples = update.auditSamples
    }

    // MARK: - Rounds

    private func startRound(_ round: Int, model: ParameterVector) -> RoundState {
        let selected = plan.selectedClients(round: round)
        var state = RoundState(round: round, selected: selected, pending: [], started: .now)
        var byProcess = [Int: [ClientID]]()
        for client in selected {
            if let index = hostOfClient[client], processes[index]?.alive == true {
                byProcess[index, default: []].append(client)
            } else {
                state.dropped.insert(client)
            }
        }
        let seed = plan.roundSeed(round)
        for (index, clients) in byProcess.sorted(by: { $0.key < $1.key }) {
            guard let process = processes[index] else { continue }
            let message = WireCodec.encode(.train(WireMessage.Train(round: round, roundSeed: seed, clients: clients, model: model)))
            if send(message, to: process.peer) {
                state.pending.formUnion(clients)
            } else {
                processes[index]?.alive = false
                state.dropped.formUnion(clients)
            }
        }
        return state
    }

    private func closeCollection(_ state: inout RoundState) {
        guard !state.pending.isEmpty else { return }
        for (index, process) in processes where process.alive {
            let expected = process.clients.filter { state.pending.contains($0) }
            guard !expected.isEmpty else { continue }
            let answered = process.clients.contains { state.updates[$0] != nil }
            if !answered {
                processes[index]?.alive = false
                logger.warning("process \(index) sent nothing before round \(state.round)'s deadline; it is dropped until it says HELLO again")
            }
        }
        logger.warning("round \(state.round): \(state.pending.count) selected clients did not answer in time: \(state.pending.sorted().map(\.rawValue))")
        state.dropped.formUnion(state.pending)
        state.pending.removeAll()
    }

    private struct MergeOutcome {
        var step: ParameterVector?
        var weights: [ClientID: Double] = [:]
        var aggregator: String
        var note: String?
        var degradedReason: String?
        var memory: AggregatorMemory?
        var detection: DetectionRoundRecord?
    }

    private func merge(_ state: RoundState, model: ParameterVector, previousAggregate: ParameterVector?, memory: AggregatorMemory) -> MergeOutcome {
        let updates = state.updates.values.sorted { $0.client < $1.client }
        if let onUpdates = environment.onUpdates, !updates.isEmpty { onUpdates(state.round, updates) }
        let needed = max(1, Int((environment.config.clients.quorum * Double(state.selected.count)).rounded(.up)))
        guard updates.count >= needed else {
            let reason = "quorum not met: \(updates.count) of \(state.selected.count) updates arrived, \(needed) needed; the model is unchanged"
            logger.warning("round \(state.round): \(reason)")
            return MergeOutcome(step: nil, aggregator: defense.name, degradedReason: reason)
        }
        var context = RoundContext(
            round: state.round, globalModel: model, previousAggregate: previousAggregate,
            expectedUpdates: state.selected.count, memory: memory)
        if defense.requiresReferenceUpdate || detection?.needsRootUpdate == true {
            context.referenceUpdate = engine.rootUpdate(global: model, rootSet: environment.rootSet, round: state.round, plan: plan)
        }
        var screened = updates
        var detectionRecord: DetectionRoundRecord?
        if let detection {
            (screened, detectionRecord) = detect(updates, with: detection, round: state.round, model: model, reference: context.referenceUpdate)
        }
        guard !screened.isEmpty else {
            let reason = "detection excluded every update; the model is unchanged"
            logger.warning("round \(state.round): \(reason)")
            return MergeOutcome(step: nil, aggregator: defense.name, degradedReason: reason, detection: detectionRecord)
        }
        var generator = plan.aggregationGenerator(round: state.round)
        let merged = defense.aggregate(screened, context: context, using: &generator, logger: logger)
        return MergeOutcome(
            step: merged.result?.aggregate, weights: merged.result?.weights ?? [:], aggregator: merged.ruleUsed,
            note: merged.result?.note, degradedReason: merged.degradedReason, memory: merged.result?.memory,
            detection: detectionRecord)
    }

    /// Runs the detectors, applies their decisions (exclude; down-weight scales the update),
    /// and scores them against the true roles.
    private func detect(
        _ updates: [ClientUpdate], with detection: DetectionEngine, round: Int, model: ParameterVector, reference: ParameterVector?
    ) -> ([ClientUpdate], DetectionRoundRecord?) {
        var sketches = [ClientID: DataSketch]()
        for update in updates { if let sketch = update.sketch { sketches[update.client] = sketch } }
        let context = DetectionContext(
            round: round, roundSeed: plan.roundSeed(round), globalModel: model, rootSet: environment.rootSet,
            referenceUpdate: reference, sketches: sketches, memory: detectionMemory)
        var generator = SeededGenerator(seed: environment.config.seed, stream: [RoundPlan.Stream.detection.rawValue, UInt64(round)])
        var pipeline = detection.pipeline
        if let auditReference {
            var samples = [ClientID: LabeledSamples]()
            for update in updates { if let revealed = update.auditSamples { samples[update.client] = revealed } }
            pipeline = pipeline.withAuditSamples(samples, referenceSynthetic: auditReference)
        }
        let report: DetectionReport
        do {
            report = try pipeline.run(updates, context: context, using: &generator)
        } catch {
            logger.error("round \(round): detection failed, every update is kept: \(error)")
            return (updates, nil)
        }
        detectionMemory = report.memory
        var screened = [ClientUpdate]()
        for update in updates {
            switch report.decisions[update.client]?.action ?? .accept {
            case .accept: screened.append(update)
            case .exclude: continue
            case .downweight(let factor):
                var scaled = update
                scaled.delta.values = update.delta.values.map { $0 * Float(factor) }
                screened.append(scaled)
            }
        }
        let malicious = Set(attack?.maliciousClients ?? [])
        let scored = detectionMetrics.record(round: round, scores: report.scores, flagged: report.flagged, malicious: malicious)
        for client in report.flagged.sorted() {
            let reasons = report.decisions[client]?.reasons.joined(separator: "; ") ?? ""
            logger.info("round \(round): \(client) flagged (score \(String(format: "%.3f", report.scores[client] ?? .nan))): \(reasons)")
        }
        return (screened, DetectionRoundRecord(report: report, metrics: scored))
    }

    private func makeRecord(_ state: RoundState, outcome: MergeOutcome, evaluation: TestMetrics, aggregateSeconds: Double) -> RoundRecord {
        let accepted = state.updates.keys.sorted()
        let losses = accepted.compactMap { state.updates[$0]?.trainLoss }.filter(\.isFinite)
        let collected = state.collected ?? .now
        return RoundRecord(
            round: state.round, selected: state.selected, accepted: accepted, dropped: state.dropped.sorted(),
            rejections: state.rejections, lateUpdates: state.lateUpdates, applied: outcome.step != nil,
            degradedReason: outcome.degradedReason, aggregator: outcome.aggregator, weights: outcome.weights,
            aggregatorNote: outcome.note, accuracy: evaluation.accuracy, loss: evaluation.loss,
            perClassAccuracy: evaluation.perClassAccuracy,
            meanTrainLoss: losses.isEmpty ? .nan : losses.reduce(0, +) / Double(losses.count),
            stepNorm: outcome.step.map { $0.norm * environment.config.training.globalLearningRate } ?? 0,
            seconds: state.started.duration(to: .now).seconds,
            waitSeconds: state.started.duration(to: collected).seconds,
            aggregateSeconds: aggregateSeconds, attackSuccessRate: nil,
            maliciousAccepted: attack.map { attack in accepted.filter(attack.isMalicious).count },
            maliciousWeight: attack.map { attack in outcome.weights.filter { attack.isMalicious($0.key) }.map(\.value).reduce(0, +) },
            detection: outcome.detection)
    }

    // MARK: - Sending

    @discardableResult
    private func send(_ message: WireMessage, to peer: PeerID) -> Bool {
        send(WireCodec.encode(message), to: peer)
    }

    @discardableResult
    private func send(_ bytes: [UInt8], to peer: PeerID) -> Bool {
        do {
            try transport.send(bytes, to: peer)
            return true
        } catch {
            logger.warning("cannot send to \(processOfPeer[peer].map { "process \($0)" } ?? peer.description): \(error)")
            return false
        }
    }

    private func broadcast(_ message: WireMessage) {
        let bytes = WireCodec.encode(message)
        for process in processes.values.sorted(by: { $0.index < $1.index }) { send(bytes, to: process.peer) }
    }

    private nonisolated func schedule(_ event: Event, after seconds: Double, on continuation: AsyncStream<Event>.Continuation) -> Task<Void, Never> {
        Task {
            try? await Task.sleep(for: .seconds(seconds))
            if !Task.isCancelled { continuation.yield(event) }
        }
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) * 1e-18
    }
}

extension WireMessage {
    /// The message type's name, for logs.
    var kindName: String {
        switch self {
        case .hello: "HELLO"
        case .welcome: "WELCOME"
        case .train: "TRAIN"
        case .update: "UPDATE"
        case .shutdown: "SHUTDOWN"
        case .error: "ERROR"
        }
    }
}
