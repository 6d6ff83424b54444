import FedArenaAttacks
import FedArenaCore
import FedArenaWire
import Logging

/// The adversary process of a colluding attack (ALIE, IPM, Fang, min-max, min-sum): malicious
/// clients send it their honest updates and receive the crafted ones.
///
/// Knowledge is a scenario choice: under `partial` the adversary sees only the malicious
/// clients' honest updates; under `omniscient` (a simulation-only switch) the coordinator also
/// forwards every benign update it accepts (marked with the metric `benign = 1`). A round is
/// crafted when every selected malicious client (and, omniscient, every selected benign client)
/// has reported, or half a round deadline after the first report, with what arrived.
public struct AdversaryRuntime: Sendable {
    private let config: ScenarioConfig
    private let transport: any ServerTransport
    private let logger: Logger

    /// Creates the adversary.
    /// - Parameters:
    ///   - config: the scenario (the same the coordinator runs).
    ///   - transport: a bound server transport the malicious clients (and the coordinator) connect to.
    ///   - logger: where decisions go.
    public init(config: ScenarioConfig, transport: any ServerTransport, logger: Logger) {
        self.config = config
        self.transport = transport
        self.logger = logger
    }

    private struct Pool {
        var malicious: [ClientID: (peer: PeerID, update: WireMessage.Update)] = [:]
        var benign: [ClientID: ParameterVector] = [:]
        var opened: ContinuousClock.Instant = .now
        var crafted = false
    }

    private enum Event: Sendable {
        case message(InboundMessage)
        case tick
    }

    /// Serves rounds until the transport closes (the launcher stops the process at the end).
    /// - Throws: ``RuntimeError`` `.configuration` when the scenario has no pooling attack.
    public func run() async throws(RuntimeError) {
        guard let attack = try AttackEngine(config: config), attack.usesAdversary else {
            throw RuntimeError(.configuration, "the scenario's attack does not use an adversary process")
        }
        let plan = RoundPlan(config: config)
        let engine = try ModelEngine(config: config)
        let limits = DecodeLimits(expectedParameterCount: engine.parameterCount)
        let patience = Duration.seconds(0.5 * config.transport.roundTimeoutSeconds)
        let (events, continuation) = AsyncStream<Event>.makeStream()
        let inbound = transport.inbound
        let forwarder = Task {
            for await message in inbound { continuation.yield(.message(message)) }
            continuation.finish()
        }
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(100))
                continuation.yield(.tick)
            }
        }
        defer {
            forwarder.cancel()
            ticker.cancel()
        }
        logger.info("adversary: \(attack.plan.kind) with \(attack.plan.knowledge) knowledge, malicious clients \(attack.maliciousClients.map(\.rawValue))")
        var pools = [Int: Pool]()
        for await event in events {
            switch event {
            case .message(let message):
                guard case .update(let update)? = try? WireCodec.decode(message.payload, limits: limits) else {
                    logger.warning("adversary: ignored an undecodable or unexpected message from \(message.peer)")
                    continue
                }
                if pools[update.round] == nil { pools[update.round] = Pool() }
                if update.metrics["benign"] == 1 {
                    pools[update.round]?.benign[update.client] = update.delta
                } else if attack.isMalicious(update.client) {
                    pools[update.round]?.malicious[update.client] = (message.peer, update)
                } else {
                    logger.warning("adversary: \(update.client) is not malicious; its update is ignored")
                }
            case .tick: break
            }
            for (round, pool) in pools where !pool.crafted {
                let selected = plan.selectedClients(round: round)
                let expectedMalicious = selected.filter(attack.isMalicious).count
                let expectedBenign = attack.omniscient ? selected.count - expectedMalicious : 0
                let complete = pool.malicious.count >= expectedMalicious && pool.benign.count >= expectedBenign
                if complete || pool.opened.duration(to: .now) > patience {
                    craft(round: round, pool: pool, attack: attack, total: selected.count)
                    pools[round]?.crafted = true
                }
            }
            pools = pools.filter { !$0.value.crafted || $0.key >= (pools.keys.max() ?? 0) - 2 }
        }
    }

    private func craft(round: Int, pool: Pool, attack: AttackEngine, total: Int) {
        let clients = pool.malicious.keys.sorted()
        guard !clients.isEmpty else { return }
        let honest = clients.map { pool.malicious[$0]!.update.delta }
        let benign = pool.benign.keys.sorted().map { pool.benign[$0]! }
        let f = config.defense.aggregator.options["f"].flatMap { value -> Int? in if case .int(let f) = value { f } else { nil } }
        let crafted: [ParameterVector]
        do {
            crafted = try attack.craft(
                round: round, malicious: honest, benign: benign, totalClients: total, seed: config.seed,
                targetRule: config.defense.aggregator.kind, f: f, clients: clients)
        } catch {
            // No reply: the malicious clients then fail their round with this process named,
            // and the coordinator stops the run instead of recording honest updates as an attack.
            logger.error("adversary: round \(round): \(error); no crafted updates are sent")
            return
        }
        for (index, client) in clients.enumerated() {
            let (peer, original) = pool.malicious[client]!
            var reply = original
            reply.delta = crafted[index]
            do {
                try transport.send(WireCodec.encode(.update(reply)), to: peer)
            } catch {
                logger.warning("adversary: cannot answer \(client): \(error)")
            }
        }
        logger.info("adversary: round \(round): crafted \(clients.count) updates from \(honest.count) malicious and \(benign.count) benign honest updates")
    }
}
