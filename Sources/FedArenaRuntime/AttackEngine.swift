import FedArenaAttacks
import FedArenaCore
import FedArenaDefenses
import FedArenaModels
import FedArenaNumerics

/// The runtime's view of a scenario's attack: who is malicious, what malicious clients train
/// on and send, whether an adversary process pools their updates, and the attack success rate.
///
/// Roles are chosen from the seed by the attack plan, so the coordinator, every client process
/// and the adversary agree on them without exchanging them. The coordinator uses the roles only
/// to *measure* (attack success, detection rates); it never uses them to defend.
struct AttackEngine: Sendable {
    private(set) var plan: AttackPlan
    let malicious: Set<ClientID>

    /// The scenario's attack, or `nil` without one.
    init?(config: ScenarioConfig) throws(RuntimeError) {
        guard let spec = config.attack else { return nil }
        do {
            plan = try AttackRegistry.standard.make(spec, shape: config.dataShape)
            malicious = Set(try plan.maliciousClients(count: config.clients.count, seed: config.seed))
            // A stealthy synthetic attacker filters against a sample-level detector, handed in
            // here because Attacks never imports Defenses.
            if var synthetic = plan.dataAttack as? SyntheticPoison, synthetic.stealthKeep != nil {
                synthetic.scorer = SyntheticSampleProbe(seed: config.seed)
                plan.dataAttack = synthetic
            }
        } catch {
            throw RuntimeError(.configuration, "cannot build the attack: \(error)", cause: error)
        }
    }

    /// The malicious clients, ascending.
    var maliciousClients: [ClientID] { malicious.sorted() }

    func isMalicious(_ client: ClientID) -> Bool { malicious.contains(client) }

    /// Whether `client` attacks in `round`.
    func attacks(_ client: ClientID, round: Int) -> Bool {
        malicious.contains(client) && plan.schedule.isActive(round: round)
    }

    /// Whether malicious updates go through the adversary process (attacks that pool updates).
    var usesAdversary: Bool {
        plan.poolsUpdates
    }

    /// Whether the coordinator shares honest updates with the adversary (simulation only).
    var omniscient: Bool { usesAdversary && plan.knowledge == .omniscient }

    /// What a malicious client trains on when it attacks.
    enum PoisonedTraining: Sendable {
        /// Every local step on this poisoned set.
        case samples(LabeledSamples)
        /// A share of the steps on poison (`synthetic-poison` with `poison_steps` < 1): each
        /// round draws its schedule of wholly real and wholly poisoned batches from the plan.
        case steps(PoisonStepPlan)

        /// Every row the client may train on (its sketch and revealed samples come from these).
        var samples: LabeledSamples {
            switch self {
            case .samples(let samples): samples
            case .steps(let plan): plan.samples
            }
        }
    }

    /// The poisoned training of a malicious client (data attacks), derived once from the seed.
    func poisoned(_ samples: LabeledSamples, client: ClientID, seed: UInt64) throws(RuntimeError) -> PoisonedTraining? {
        guard let attack = plan.dataAttack, malicious.contains(client) else { return nil }
        var generator = SeededGenerator(seed: seed, stream: [RoundPlan.Stream.attack.rawValue, UInt64(client.rawValue)])
        do {
            if let synthetic = attack as? SyntheticPoison, synthetic.needsStepPlan {
                return .steps(try synthetic.stepPlan(samples, using: &generator))
            }
            return .samples(try attack.poison(samples, using: &generator))
        } catch {
            throw RuntimeError(.configuration, "\(attack.name) cannot poison \(client)'s data: \(error)", cause: error)
        }
    }

    /// This round's batch schedule of a partial-poisoning client, from its own stream (seed,
    /// client, round), so every process draws the same one.
    func schedule(
        _ steps: PoisonStepPlan, client: ClientID, round: Int, seed: UInt64, epochs: Int, batchSize: Int
    ) throws(RuntimeError) -> PoisonStepSchedule {
        var generator = SeededGenerator(seed: seed, stream: [RoundPlan.Stream.attack.rawValue, UInt64(client.rawValue), 0x5CED, UInt64(round)])
        do {
            return try steps.schedule(epochs: epochs, batchSize: batchSize, using: &generator)
        } catch {
            throw RuntimeError(.configuration, "\(client)'s partial-poisoning schedule for round \(round): \(error)", cause: error)
        }
    }

    /// Crafts malicious updates from what the attacker knows (no adversary needed for
    /// knowledge `.none`; the adversary calls this with pooled updates otherwise).
    /// - Throws: ``RuntimeError`` `.attack` naming the clients when the attack cannot craft
    ///   (sending their honest updates instead would misstate the attack's success).
    func craft(
        round: Int, malicious updates: [ParameterVector], benign: [ParameterVector], totalClients: Int, seed: UInt64, targetRule: String?,
        f: Int?, clients: [ClientID]
    ) throws(RuntimeError) -> [ParameterVector] {
        guard let attack = plan.updateAttack, !updates.isEmpty else { return updates }
        var generator = SeededGenerator(seed: seed, stream: [RoundPlan.Stream.attack.rawValue, 0xC0FFEE, UInt64(round)])
        let context = AttackContext(
            round: round, maliciousUpdates: updates, benignUpdates: benign, totalClients: totalClients,
            targetRule: targetRule, assumedByzantine: f)
        let names = clients.map(\.description).joined(separator: ", ")
        let crafted: [ParameterVector]
        do {
            crafted = try attack.craft(context, using: &generator)
        } catch {
            throw RuntimeError(.attack, "\(attack.name) cannot craft round \(round)'s updates of \(names): \(error)", cause: error)
        }
        guard crafted.count == updates.count else {
            throw RuntimeError(.attack, "\(attack.name) crafted \(crafted.count) updates for \(updates.count) malicious clients (\(names)) in round \(round)")
        }
        return crafted
    }

    /// The attack-success-rate probe of the objective: the samples to classify and the target.
    func successProbe(testSet: LabeledSamples) -> (samples: LabeledSamples, target: Int)? {
        AttackSuccess.evaluationSet(for: plan.objective, testSet: testSet)
    }
}

/// What the launcher needs to know about a scenario's attack before starting processes.
public enum AttackSetup {
    /// Whether the attack pools malicious updates in an adversary process, and whether the
    /// coordinator must share benign updates with it (omniscient knowledge).
    /// - Throws: ``RuntimeError`` `.configuration` when the attack cannot be built.
    public static func adversary(for config: ScenarioConfig) throws(RuntimeError) -> (needed: Bool, omniscient: Bool) {
        guard let engine = try AttackEngine(config: config) else { return (false, false) }
        return (engine.usesAdversary, engine.omniscient)
    }

    /// The scenario's malicious clients (ground truth, chosen from the seed), ascending;
    /// empty without an attack.
    /// - Throws: ``RuntimeError`` `.configuration` when the attack cannot be built.
    public static func maliciousClients(for config: ScenarioConfig) throws(RuntimeError) -> [ClientID] {
        try AttackEngine(config: config)?.maliciousClients ?? []
    }

    /// Checks the attack against the scenario (known kind and keys, enough knowledge, a rule
    /// it can target).
    /// - Throws: ``ConfigError`` at the attack's key path.
    static func check(_ config: ScenarioConfig) throws(ConfigError) {
        guard let spec = config.attack else { return }
        let plan = try AttackRegistry.standard.make(spec, shape: config.dataShape)
        let f: Int? = {
            if case .int(let f)? = config.defense.aggregator.options["f"] { return f }
            return nil
        }()
        try plan.validate(againstRule: config.defense.aggregator.kind, catalog: AggregatorRegistry.standard.catalog, f: f, perRound: config.clients.perRound)
        _ = try plan.maliciousClients(count: config.clients.count, seed: config.seed)
    }
}

extension AttackSetup {
    /// The attack success rate of `parameters` on the probe of `config`'s attack objective
    /// (for the attack-free baseline run, whose model never saw the attack).
    /// - Returns: `nil` for untargeted attacks.
    /// - Throws: ``RuntimeError`` when the data or the model cannot be loaded.
    public static func successRate(of parameters: ParameterVector, for config: ScenarioConfig) throws(RuntimeError) -> Double? {
        guard let attack = try AttackEngine(config: config) else { return nil }
        let federation = try FederationData.load(config: config, role: .coordinator)
        guard let probe = attack.successProbe(testSet: federation.testSet) else { return nil }
        return try ModelEngine(config: config).successRate(parameters, probe: probe.samples, target: probe.target)
    }
}

extension ScenarioConfig {
    /// What the attack registry needs of the dataset: the class count and, for pixel triggers,
    /// the side of square single-channel images (0 for other shapes, which ``DataPreflight``
    /// refuses for the attacks that stamp a trigger).
    var dataShape: AttackRegistry.DataShape {
        AttackRegistry.DataShape(classCount: dataset.classCount, imageSide: dataset.squareImageSide ?? 0)
    }
}
