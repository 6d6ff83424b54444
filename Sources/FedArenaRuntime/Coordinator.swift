import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import FedArenaReports
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
        /// Connected (sends succeed and it reported no fatal error).
        var alive: Bool
        /// It missed the last deadline: it still receives TRAIN, but rounds do not wait for it
        /// until it answers again (a stopped or overloaded process rejoins on its own).
        var late: Bool = false
        var label: String
    }

    private struct RoundState {
        var round: Int
        var selected: [ClientID]
        /// Clients the round waits for.
        var pending: Set<ClientID>
        /// Clients of late processes: asked to train, accepted when they answer in time, not waited for.
        var optional: Set<ClientID> = []
        /// The accepted updates, each delta written once into the round's block.
        var block: RoundBlock
        /// The accepted updates' reported training losses (kept after the block is handed over).
        var trainLosses: [ClientID: Double] = [:]
        /// Bytes of the accepted UPDATE messages (header included): what the wire carried.
        var updateBytes = 0
        var dropped: Set<ClientID> = []
        var rejections = RejectionLog()
        var lateUpdates = 0
        /// Clients challenged by the training audit whose OPENING has not arrived.
        var awaitingOpening: Set<ClientID> = []
        /// The steps each challenged client must open.
        var challenges: [ClientID: [Int]] = [:]
        var openings: [ClientID: [StepOpening]] = [:]
        /// Bytes the training audit added (commitments, CHALLENGEs, OPENINGs).
        var auditBytes = 0
        var started: ContinuousClock.Instant
        var collected: ContinuousClock.Instant?
        /// The model the round's TRAIN carries (sent again to a process that reconnects mid-round).
        var model: ParameterVector
    }

    private let environment: CoordinatorEnvironment
    private let transport: any ServerTransport
    private let plan: RoundPlan
    private let pipeline: RoundPipeline
    private var pipelineState = PipelineState()
    private let limits: DecodeLimits
    /// Per-round nonces from a secret drawn at start (not from the public seed): an UPDATE must
    /// echo its round's TRAIN nonce, so replayed and forged updates are refused.
    private let nonces = RoundNonces()
    private let logger: Logger
    private let welcome: [UInt8]
    private let attack: AttackEngine?
    private var detectionMetrics = DetectionMetrics()
    private let successProbe: (samples: LabeledSamples, target: Int)?
    private var engine: ModelEngine { pipeline.model }

    private var processes: [Int: HostedProcess] = [:]
    private var processOfPeer: [PeerID: Int] = [:]
    private var hostOfClient: [ClientID: Int] = [:]
    private var rejectedMessages = 0
    /// Rejections between rounds (before round 1, or while a round's records are written),
    /// carried into the next round's record.
    private var preRoundRejections = RejectionLog()
    /// Rejected messages per unregistered peer.
    private var rejectionsOfPeer = [PeerID: Int]()
    /// Peers over their budget, whose messages are dropped unread.
    private var silencedPeers = Set<PeerID>()
    /// Rejected messages an unregistered peer may send before it is silenced.
    static let rejectionBudget = 1_000
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
        let pipeline = try RoundPipeline(config: environment.config, rootSet: environment.rootSet)
        self.pipeline = pipeline
        self.logger = environment.logger
        self.limits = DecodeLimits(expectedParameterCount: pipeline.parameterCount)
        self.attack = try AttackEngine(config: environment.config)
        self.successProbe = attack?.successProbe(testSet: environment.testSet)
        let scenarioJSON: [UInt8]
        do {
            scenarioJSON = Array(try JSONEncoder().encode(environment.config))
        } catch {
            throw RuntimeError(.configuration, "cannot encode the scenario for clients: \(error)")
        }
        self.welcome = WireCodec.encode(
            .welcome(WireMessage.Welcome(runID: environment.config.name, scenarioJSON: scenarioJSON, parameterCount: pipeline.parameterCount)))
    }

    /// Runs the whole scenario: waits for the client processes, runs every round, and sends
    /// SHUTDOWN.
    /// - Returns: the per-round records and the final model.
    /// - Throws: ``RuntimeError`` `.connectTimeout` when too few clients connect in time.
    public func run() async throws(RuntimeError) -> RunResult {
        try await run(resumingFrom: nil, earlierRounds: [])
    }

    /// Runs the rounds after a checkpoint: the same final model as an uninterrupted run.
    /// - Parameters:
    ///   - checkpoint: the state after the last completed round, or `nil` to start at round 1.
    ///   - earlierRounds: the records of the rounds the checkpoint covers (for the result).
    /// - Returns: the per-round records (earlier and new) and the final model.
    /// - Throws: ``RuntimeError`` `.connectTimeout` when too few clients connect in time, or the
    ///   error of a record that cannot be written.
    public func run(resumingFrom checkpoint: Checkpoint?, earlierRounds: [RoundMetrics]) async throws(RuntimeError) -> RunResult {
        let config = environment.config
        // Stopped after the last round's checkpoint but before its summary (a coordinator
        // killed at the very end): nothing is left to train, so the run ends from the
        // checkpoint without waiting for clients.
        if let checkpoint, checkpoint.round == config.training.rounds {
            logger.notice("the checkpoint is after the last round (\(checkpoint.round)): finishing the run from it")
            return RunResult(
                rounds: earlierRounds, finalModel: checkpoint.model, dropouts: checkpoint.dropouts, droppedClients: checkpoint.droppedClients,
                rejectedMessages: checkpoint.rejectedMessages, connectedProcesses: 0, maliciousClients: attack?.maliciousClients ?? [],
                detection: pipeline.detection == nil ? nil : checkpoint.detectionMetrics.summary)
        }
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
        var model = checkpoint?.model ?? engine.initialParameters(plan: plan)
        var records = earlierRounds
        var dropouts = checkpoint?.dropouts ?? 0
        var droppedClients = Set(checkpoint?.droppedClients ?? [])
        if let checkpoint {
            pipelineState = checkpoint.pipeline
            detectionMetrics = checkpoint.detectionMetrics
            rejectedMessages = checkpoint.rejectedMessages
            logger.notice("resuming after round \(checkpoint.round) of \(config.training.rounds)")
        }
        let first = (checkpoint?.round ?? 0) + 1
        guard first <= config.training.rounds else {
            broadcast(.shutdown(WireMessage.Shutdown(reason: "nothing left to run")))
            throw RuntimeError(
                .configuration, "the checkpoint is after round \(first - 1), and the scenario has \(config.training.rounds) rounds: nothing is left to run")
        }
        var state = startRound(first, model: model)
        for round in first...config.training.rounds {
            if !processes.values.contains(where: \.alive), !processErrors.isEmpty {
                broadcast(.shutdown(WireMessage.Shutdown(reason: "every client process failed")))
                let reports = processErrors.keys.sorted().map { "process \($0): \(processErrors[$0]!)" }
                throw RuntimeError(
                    .configuration, "every client process failed before round \(round); first report: \(reports.first ?? "")"
                        + (reports.count > 1 ? " (and \(reports.count - 1) more in coordinator.log)" : ""))
            }
            let deadline = schedule(.deadline(round), after: config.transport.roundTimeoutSeconds, on: continuation)
            collecting: while waitsForMore(state) {
                switch await iterator.next() {
                case .message(let message)?: try handle(message, in: &state)
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

            let pipelineStart = ContinuousClock.now
            let outcome = try merge(&state, model: model)
            if let step = outcome.step {
                engine.apply(step: step, to: &model, globalLearningRate: config.training.globalLearningRate)
            }
            let pipelineSeconds = pipelineStart.duration(to: .now).seconds

            let finished = state
            if round < config.training.rounds { state = startRound(round + 1, model: model) }
            let evaluation = try engine.evaluate(model, on: environment.testSet)
            let rate = try successProbe.map { probe throws(RuntimeError) in try engine.successRate(model, probe: probe.samples, target: probe.target) }
            let record = measure(
                finished, outcome: outcome, evaluation: evaluation, successRate: rate, pipelineSeconds: pipelineSeconds,
                modelSHA256: RunRecorder.sha256(model))
            records.append(record)
            try environment.onRound(record)
            if let onCheckpoint = environment.onCheckpoint {
                try onCheckpoint(
                    Checkpoint(
                        round: round, model: model, pipeline: pipelineState, detectionMetrics: detectionMetrics, dropouts: dropouts,
                        droppedClients: droppedClients.sorted(), rejectedMessages: rejectedMessages, ledgerHead: "", wallSeconds: 0,
                        scenarioSHA256: ""))
            }
        }
        broadcast(.shutdown(WireMessage.Shutdown(reason: "run complete")))
        return RunResult(
            rounds: records, finalModel: model, dropouts: dropouts, droppedClients: droppedClients.sorted(),
            rejectedMessages: rejectedMessages, connectedProcesses: processes.count,
            maliciousClients: attack?.maliciousClients ?? [],
            detection: pipeline.detection == nil ? nil : detectionMetrics.summary)
    }

    // MARK: - Messages

    private func handleOutsideRound(_ message: InboundMessage) {
        var outside = RejectionLog()
        if overBudget(message.peer, log: &outside) {
            preRoundRejections.absorb(outside)
            return
        }
        switch decode(message) {
        case .success(.hello(let hello)): register(hello, from: message.peer, authenticated: message.authenticated, log: &outside)
        case .success(.error(let report)): processFailed(peer: message.peer, report: report)
        case .success(let other): reject(message.peer, client: nil, .unexpected, "unexpected \(other.kindName) before the first round", log: &outside)
        case .failure(let error):
            reject(message.peer, client: nil, .undecodable, "undecodable message (\(message.payload.count) bytes): \(error)", log: &outside)
        }
        preRoundRejections.absorb(outside)
    }

    private func handle(_ message: InboundMessage, in state: inout RoundState) throws(RuntimeError) {
        if overBudget(message.peer, log: &state.rejections) { return }
        switch decode(message) {
        case .success(.update(let update)): try accept(update, wireBytes: message.payload.count, from: message.peer, in: &state)
        case .success(.opening(let opening)): acceptOpening(opening, bytes: message.payload.count, from: message.peer, in: &state)
        case .success(.hello(let hello)):
            // A repeated HELLO on the same connection changes nothing (and earns no second TRAIN).
            let known = processOfPeer[message.peer] != nil
            if let index = register(hello, from: message.peer, authenticated: message.authenticated, log: &state.rejections), !known {
                trainAgain(index, in: &state)
            }
        case .success(.error(let report)):
            if let index = processFailed(peer: message.peer, report: report), report.code == UInt16(ClientRuntime.ErrorCode.round) {
                broadcast(.shutdown(WireMessage.Shutdown(reason: "process \(index) could not serve round \(state.round)")))
                throw RuntimeError(
                    .clientFailed,
                    "round \(state.round): \(report.message) — the run stops, because its results would misstate the scenario")
            } else if let index = processOfPeer[message.peer] {
                for client in processes[index]?.clients ?? [] where state.pending.remove(client) != nil || state.optional.remove(client) != nil {
                    state.dropped.insert(client)
                }
                for client in processes[index]?.clients ?? [] { state.awaitingOpening.remove(client) }
            }
        case .success(let other):
            reject(message.peer, client: nil, .unexpected, "unexpected \(other.kindName) from a client", log: &state.rejections)
        case .failure(let error):
            reject(message.peer, client: nil, .undecodable, "undecodable message (\(message.payload.count) bytes): \(error)", log: &state.rejections)
        }
    }

    private func decode(_ message: InboundMessage) -> Result<WireMessage, WireError> {
        Result { () throws(WireError) in try WireCodec.decode(message.payload, limits: limits) }
    }

    /// Whether `peer` spent its budget of rejected messages: its messages are then dropped
    /// unread (counted, never kept or logged one by one), so no peer can make the coordinator
    /// decode, log or record without bound. A registered client process is never silenced
    /// by this: its failures are counted per round like any other.
    private func overBudget(_ peer: PeerID, log: inout RejectionLog) -> Bool {
        guard silencedPeers.contains(peer) else { return false }
        rejectedMessages += 1
        _ = log.add(RejectionRecord(client: nil, peer: peer.description, reason: "over its rejection budget"), kind: .overBudget, keep: false)
        return true
    }

    private func reject(_ peer: PeerID, client: ClientID?, _ kind: RejectionLog.Kind, _ reason: String, log: inout RejectionLog) {
        rejectedMessages += 1
        if processOfPeer[peer] == nil {
            let spent = (rejectionsOfPeer[peer] ?? 0) + 1
            rejectionsOfPeer[peer] = spent
            if spent == Self.rejectionBudget {
                silencedPeers.insert(peer)
                logger.error(
                    "\(peer) sent \(spent) rejected messages without registering as a client process; its further messages are dropped unread")
            }
        }
        let sender = processOfPeer[peer].map { "process \($0)" } ?? peer.description
        if log.add(RejectionRecord(client: client?.rawValue, peer: sender, reason: reason), kind: kind) {
            logger.warning("rejected a message from \(sender): \(reason)")
        }
    }

    /// Binds a process index to the peer that said HELLO and answers WELCOME; refuses (and
    /// counts) a HELLO the allow-list, the process count or the client hosting forbids.
    /// - Returns: The index bound, or `nil` if refused.
    @discardableResult
    private func register(_ hello: WireMessage.Hello, from peer: PeerID, authenticated: AuthenticatedPeer?, log: inout RejectionLog) -> Int? {
        let config = environment.config
        // Under CURVE the allow-list binds each client key to one process index: a process
        // cannot speak for another index, nor take over a connected process's clients.
        if config.transport.curve == true || authenticated != nil {
            guard case .clientProcess(let bound)? = authenticated, bound == hello.processIndex else {
                let who = authenticated.map(\.description) ?? "an unauthenticated peer"
                reject(peer, client: nil, .refusedHello, "HELLO claiming process \(hello.processIndex) from \(who)", log: &log)
                send(.error(WireMessage.ErrorReport(code: 3, message: "this key is not allowed to speak for process \(hello.processIndex)")), to: peer)
                return nil
            }
        }
        guard (0..<config.clients.processes).contains(hello.processIndex) else {
            reject(peer, client: nil, .refusedHello, "HELLO with process index \(hello.processIndex) outside 0..<\(config.clients.processes)", log: &log)
            send(.error(WireMessage.ErrorReport(code: 1, message: "process index \(hello.processIndex) is outside 0..<\(config.clients.processes)")), to: peer)
            return nil
        }
        let clients = hello.clients.isEmpty ? plan.clients(ofProcess: hello.processIndex) : hello.clients.sorted()
        for client in clients {
            let outOfRange = !(0..<config.clients.count).contains(client.rawValue)
            let takenElsewhere = hostOfClient[client].map { $0 != hello.processIndex } ?? false
            if outOfRange || takenElsewhere {
                let reason = outOfRange ? "\(client) does not exist" : "\(client) is already hosted by process \(hostOfClient[client]!)"
                reject(peer, client: client, .refusedHello, "HELLO from process \(hello.processIndex) refused: \(reason)", log: &log)
                send(.error(WireMessage.ErrorReport(code: 2, message: reason)), to: peer)
                return nil
            }
        }
        // A HELLO for a registered index rebinds it to the new connection: a restarted process,
        // or a transport that reconnected (a process stopped past the heartbeat timeout) and
        // said HELLO again. Its clients get TRAIN there from the next round on; a process that
        // missed a deadline stays late until it answers, so rounds do not wait for it meanwhile.
        var late = false
        if let previous = processes[hello.processIndex] {
            if previous.peer != peer { processOfPeer[previous.peer] = nil }
            late = previous.late
            logger.notice("process \(hello.processIndex) reconnected (\(hello.label))")
        } else {
            logger.info("process \(hello.processIndex) connected (\(hello.label)), hosting \(clients.count) clients")
        }
        processes[hello.processIndex] = HostedProcess(
            index: hello.processIndex, peer: peer, clients: clients, alive: true, late: late, label: hello.label)
        processOfPeer[peer] = hello.processIndex
        for client in clients { hostOfClient[client] = hello.processIndex }
        send(welcome, to: peer)
        return hello.processIndex
    }

    /// Sends the current round's TRAIN again to a process that (re)registered mid-round, for
    /// its selected clients that have not answered: the first TRAIN (or their UPDATEs) may
    /// have been lost with the old connection, or never sent (the process was unreachable).
    /// Training is a function of the seed, the round and the client, so an update trained
    /// again is the same; one that did arrive makes the second a counted duplicate.
    private func trainAgain(_ index: Int, in state: inout RoundState) {
        guard let process = processes[index], process.alive else { return }
        let owed = state.selected.filter { hostOfClient[$0] == index && !state.block.contains($0) }
        guard !owed.isEmpty else { return }
        let message = WireCodec.encode(
            .train(
                WireMessage.Train(
                    round: state.round, roundSeed: plan.roundSeed(state.round), nonce: nonces.nonce(round: state.round), clients: owed,
                    model: state.model)))
        guard send(message, to: process.peer) else { return }
        logger.notice("process \(index) registered during round \(state.round): TRAIN sent again for \(owed.count) clients")
        for client in owed {
            state.dropped.remove(client)
            if process.late { state.optional.insert(client) } else { state.pending.insert(client) }
        }
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

    private func accept(_ update: WireMessage.Update, wireBytes: Int, from peer: PeerID, in state: inout RoundState) throws(RuntimeError) {
        guard let index = processOfPeer[peer] else {
            reject(peer, client: update.client, .unknownPeer, "UPDATE from a peer that never said HELLO", log: &state.rejections)
            return
        }
        if case .wrongNonce = nonces.freshness(round: update.round, nonce: update.nonce, currentRound: state.round) {
            reject(peer, client: update.client, .replay, "UPDATE for round \(update.round) with a nonce that round's TRAIN did not carry (replayed or forged)", log: &state.rejections)
            return
        }
        if update.round < state.round {
            state.lateUpdates += 1
            logger.info("late update from \(update.client) for round \(update.round) (now round \(state.round)) ignored")
            return
        }
        let problem: (RejectionLog.Kind, String)?
        if update.round > state.round {
            problem = (.futureRound, "update for future round \(update.round) (now round \(state.round))")
        } else if hostOfClient[update.client] != index {
            problem = (.notHosted, "\(update.client) is not hosted by process \(index)")
        } else if state.block.contains(update.client) {
            problem = (.duplicate, "duplicate update from \(update.client)")
        } else if !state.pending.contains(update.client), !state.optional.contains(update.client) {
            problem = (.notSelected, "\(update.client) was not asked to train in round \(state.round)")
        } else {
            problem = nil
        }
        if let (kind, reason) = problem {
            reject(peer, client: update.client, kind, reason, log: &state.rejections)
            return
        }
        var accepted = ClientUpdate(
            client: update.client, round: update.round, sampleCount: update.sampleCount, delta: update.delta,
            trainLoss: update.trainLoss, sketch: update.sketch)
        accepted.auditSamples = update.auditSamples
        accepted.commitment = update.commitment
        // The pipeline's content check, run on arrival too, so that a malformed update does not
        // take the slot of the client's valid one.
        if let reason = RoundPipeline.problem(with: accepted, parameterCount: pipeline.parameterCount) {
            reject(peer, client: update.client, .content, "\(update.client)'s update: \(reason)", log: &state.rejections)
            return
        }
        if processes[index]?.late == true {
            processes[index]?.late = false
            logger.notice("process \(index) answered again in round \(state.round); rounds wait for it again")
        }
        state.pending.remove(update.client)
        state.optional.remove(update.client)
        if let link = environment.adversaryLink, let attack, attack.omniscient, !attack.isMalicious(update.client) {
            var shared = update
            shared.metrics = ["benign": 1]
            do {
                try link.send(WireCodec.encode(.update(shared)))
            } catch {
                throw RuntimeError(
                    .transport, "cannot share \(update.client)'s benign update with the adversary (omniscient attack): \(error)", cause: error)
            }
        }
        state.updateBytes += wireBytes
        state.block.store(accepted)
        challenge(accepted, peer: peer, nonce: update.nonce, in: &state)
    }

    /// Sends the training audit's CHALLENGE for an accepted update with a valid commitment;
    /// the round then also waits for the client's OPENING (until its deadline).
    private func challenge(_ update: ClientUpdate, peer: PeerID, nonce: UInt64, in state: inout RoundState) {
        guard let verifier = pipeline.trainingAudit, let commitment = update.commitment else { return }
        state.auditBytes += 1 + 4 + commitment.root.count + 4 + 4 * commitment.stepCount
        guard verifier.commitmentProblem(update) == nil else { return }
        let steps = verifier.challenge(commitment, round: state.round, client: update.client)
        let bytes = WireCodec.encode(.challenge(WireMessage.Challenge(round: state.round, nonce: nonce, client: update.client, steps: steps)))
        state.auditBytes += bytes.count
        if send(bytes, to: peer) {
            state.challenges[update.client] = steps
            state.awaitingOpening.insert(update.client)
        }
    }

    /// Keeps a client's OPENING for the pipeline's verification, if it answers this round's CHALLENGE.
    private func acceptOpening(_ opening: WireMessage.Opening, bytes: Int, from peer: PeerID, in state: inout RoundState) {
        guard let index = processOfPeer[peer] else {
            reject(peer, client: opening.client, .unknownPeer, "OPENING from a peer that never said HELLO", log: &state.rejections)
            return
        }
        if case .wrongNonce = nonces.freshness(round: opening.round, nonce: opening.nonce, currentRound: state.round) {
            reject(peer, client: opening.client, .replay, "OPENING for round \(opening.round) with a nonce that round's TRAIN did not carry", log: &state.rejections)
            return
        }
        guard opening.round == state.round else {
            state.lateUpdates += 1
            logger.info("OPENING from \(opening.client) for round \(opening.round) (now round \(state.round)) ignored")
            return
        }
        guard hostOfClient[opening.client] == index, state.awaitingOpening.contains(opening.client) else {
            reject(
                peer, client: opening.client, .notSelected, "\(opening.client) was not challenged in round \(state.round), or already opened",
                log: &state.rejections)
            return
        }
        state.auditBytes += bytes
        state.awaitingOpening.remove(opening.client)
        state.openings[opening.client] = opening.openings
    }

    /// Hands the round's block to the pipeline (the block is released when this returns, before
    /// the next round allocates its own).
    private func merge(_ state: inout RoundState, model: ParameterVector) throws(RuntimeError) -> RoundOutcome {
        let collected = state.block.take()
        state.trainLosses = Dictionary(uniqueKeysWithValues: zip(collected.clients, collected.details.map(\.trainLoss)))
        if let onUpdates = environment.onUpdates, collected.count > 0 { try onUpdates(state.round, collected.matrix) }
        let input = RoundInput(round: state.round, selected: state.selected, collected: collected, globalModel: model, openings: state.openings)
        return pipeline.run(input, state: &pipelineState, logger: logger)
    }

    // MARK: - Rounds

    private func startRound(_ round: Int, model: ParameterVector) -> RoundState {
        let selected = plan.selectedClients(round: round)
        var state = RoundState(
            round: round, selected: selected, pending: [], block: RoundBlock(round: round, selected: selected, dimension: pipeline.parameterCount),
            started: .now, model: model)
        state.rejections.absorb(preRoundRejections)
        preRoundRejections = RejectionLog()
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
            let message = WireCodec.encode(
                .train(WireMessage.Train(round: round, roundSeed: seed, nonce: nonces.nonce(round: round), clients: clients, model: model)))
            if send(message, to: process.peer) {
                if process.late { state.optional.formUnion(clients) } else { state.pending.formUnion(clients) }
            } else {
                processes[index]?.alive = false
                state.dropped.formUnion(clients)
            }
        }
        return state
    }

    /// Whether the round keeps collecting: while a client it waits for has not answered, and,
    /// when only late processes' clients are left, until their answers meet the quorum (so a
    /// round in which every process was late, e.g. still loading data, does not close empty).
    private func waitsForMore(_ state: RoundState) -> Bool {
        if !state.pending.isEmpty || !state.awaitingOpening.isEmpty { return true }
        guard !state.optional.isEmpty else { return false }
        let needed = max(1, Int((environment.config.clients.quorum * Double(state.selected.count)).rounded(.up)))
        return state.block.count < needed
    }

    private func closeCollection(_ state: inout RoundState) {
        if !state.pending.isEmpty {
            for (index, process) in processes where process.alive && !process.late {
                let expected = process.clients.filter { state.pending.contains($0) }
                guard !expected.isEmpty else { continue }
                if !process.clients.contains(where: { state.block.contains($0) }) {
                    processes[index]?.late = true
                    logger.warning(
                        "process \(index) sent nothing before round \(state.round)'s deadline; it keeps receiving TRAIN and rounds wait for it again once it answers")
                }
            }
            logger.warning("round \(state.round): \(state.pending.count) selected clients did not answer in time: \(state.pending.sorted().map(\.rawValue))")
        }
        if !state.awaitingOpening.isEmpty {
            logger.warning("round \(state.round): \(state.awaitingOpening.count) challenged clients sent no OPENING in time: \(state.awaitingOpening.sorted().map(\.rawValue))")
            state.awaitingOpening.removeAll()
        }
        state.dropped.formUnion(state.pending)
        state.dropped.formUnion(state.optional)
        state.pending.removeAll()
        state.optional.removeAll()
        if state.rejections.suppressed > 0 {
            logger.warning("round \(state.round): \(state.rejections.suppressed) more rejected messages not logged one by one: \(state.rejections.byKind)")
        }
    }

    /// The round's record: the pipeline's decisions, the evaluation, and the measurements
    /// against the true roles (which the defense never sees).
    private func measure(
        _ state: RoundState, outcome: RoundOutcome, evaluation: TestMetrics, successRate: Double?, pipelineSeconds: Double,
        modelSHA256: String
    ) -> RoundMetrics {
        var rejections = state.rejections
        for rejection in outcome.rejections {
            rejectedMessages += 1
            _ = rejections.add(
                RejectionRecord(client: rejection.client.rawValue, peer: hostOfClient[rejection.client].map { "process \($0)" } ?? "unknown", reason: rejection.reason),
                kind: .content)
        }
        let validated = Set(outcome.validated)
        let losses = outcome.validated.compactMap { state.trainLosses[$0] }.filter(\.isFinite)
        let attacking = attack.map { attack in state.selected.filter { attack.attacks($0, round: state.round) } }
        let idle = attack.map { attack in outcome.validated.filter { attack.isMalicious($0) && !attack.attacks($0, round: state.round) } } ?? []
        var detectionRecord: DetectionRoundMetrics?
        if let report = outcome.detection {
            // Rates count the client-rounds that actually attacked as positives; idle
            // malicious clients (schedule inactive) are neither positives nor negatives.
            let idleSet = Set(idle)
            let scored = report.scores.filter { !idleSet.contains($0.key) }
            let round = detectionMetrics.record(
                round: state.round, scores: scored, flagged: report.flagged.subtracting(idleSet), malicious: Set(attacking ?? []))
            detectionRecord = Self.detectionRecord(report, metrics: round, idle: idle)
        }
        let screened = Set(outcome.screened)
        var weights = [String: Double]()
        for (client, weight) in outcome.weights { weights[String(client.rawValue)] = weight }
        let collected = state.collected ?? .now
        var record = RoundMetrics(
            round: state.round, accuracy: evaluation.accuracy, loss: evaluation.loss, perClassAccuracy: evaluation.perClassAccuracy,
            selected: state.selected.map(\.rawValue), accepted: outcome.validated.map(\.rawValue),
            dropped: state.dropped.sorted().map(\.rawValue), rejected: rejections.kept, rejectedCount: rejections.count,
            rejectedByReason: rejections.byKind, lateUpdates: state.lateUpdates, applied: outcome.step != nil,
            degraded: outcome.degradedReason, aggregator: outcome.ruleUsed, aggregatorNote: outcome.note, weights: weights,
            meanTrainLoss: losses.isEmpty ? nil : losses.reduce(0, +) / Double(losses.count),
            nonFiniteTrainLosses: outcome.nonFiniteTrainLosses,
            stepNorm: outcome.step.map { $0.norm * environment.config.training.globalLearningRate } ?? 0,
            seconds: state.started.duration(to: .now).seconds, waitSeconds: state.started.duration(to: collected).seconds,
            aggregateSeconds: pipelineSeconds, asr: successRate, attacking: attacking?.map(\.rawValue),
            maliciousAccepted: attacking.map { $0.filter { screened.contains($0) && validated.contains($0) }.count },
            maliciousWeight: attack.map { attack in outcome.weights.filter { attack.isMalicious($0.key) }.map(\.value).reduce(0, +) },
            modelSHA256: modelSHA256, detection: detectionRecord)
        record.updateBytes = state.updateBytes
        if pipeline.trainingAudit != nil {
            var failures = [String: Int]()
            var failed = [String: String]()
            for (client, verdict) in outcome.trainingAudits {
                guard let failure = verdict.failure else { continue }
                failures[failure.rawValue, default: 0] += 1
                failed[String(client.rawValue)] = "\(failure.rawValue): \(verdict.message)"
            }
            record.trainingAudit = TrainingAuditRoundMetrics(
                bytes: state.auditBytes, verifySeconds: outcome.trainingAuditSeconds, audited: outcome.trainingAudits.count,
                openedSteps: outcome.trainingAudits.values.reduce(0) { $0 + $1.openedSteps.count }, failures: failures, failed: failed)
        }
        return record
    }

    /// The `detection` object of a metrics line.
    static func detectionRecord(_ report: DetectionReport, metrics: DetectionMetrics.Round, idle: [ClientID]) -> DetectionRoundMetrics {
        var scores = [String: Double?]()
        var decisions = [DetectionDecisionRecord]()
        for client in report.decisions.keys.sorted() {
            let decision = report.decisions[client]!
            scores[String(client.rawValue)] = finiteOrNil(decision.score)
            guard decision.flagged || decision.action != .accept else { continue }
            let action: String
            switch decision.action {
            case .accept: action = "accept"
            case .exclude: action = "exclude"
            case .downweight(let factor): action = String(format: "downweight %.3f", factor)
            }
            decisions.append(
                DetectionDecisionRecord(client: client.rawValue, score: decision.score, action: action, weight: decision.weight, reasons: decision.reasons))
        }
        let detectorScores = report.suspicions.mapValues { suspicions in
            Dictionary(uniqueKeysWithValues: suspicions.map { (String($0.key.rawValue), finiteOrNil($0.value.score)) })
        }
        return DetectionRoundMetrics(
            scores: scores, flagged: report.flagged.sorted().map(\.rawValue), decisions: decisions, threshold: report.threshold,
            calibrating: report.calibrating, tp: metrics.truePositives, fp: metrics.falsePositives, tn: metrics.trueNegatives,
            fn: metrics.falseNegatives, idleMalicious: idle.map(\.rawValue), auc: metrics.auc, detectorScores: detectorScores)
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
        case .challenge: "CHALLENGE"
        case .opening: "OPENING"
        }
    }
}
