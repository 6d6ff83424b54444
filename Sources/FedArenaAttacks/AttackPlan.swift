import FedArenaCore
import FedArenaNumerics

/// Everything the runtime needs to run one scenario's `attack:` section: which attack, who is
/// malicious, when, and what the adversary may see. Built by ``AttackRegistry/make(_:shape:)``.
///
/// ## How a round runs under a plan (for the runtime)
/// In a round where ``schedule`` is inactive, malicious clients behave honestly. In an active
/// round, each malicious client that takes part:
/// 1. trains on ``dataAttack``'s `poison(realSamples, rng)` when there is one, else on its
///    real samples, and computes its update `Δ_i` as an honest client would;
/// 2. when there is an ``updateAttack``, the adversary collects those `Δ_i` (in client order)
///    into an ``AttackContext`` built by ``context(round:maliciousUpdates:benignUpdates:totalClients:targetRule:assumedByzantine:)``
///    and sends `craft(context, rng)[i]` in place of `Δ_i`.
///
/// A data attack with `boost: k` is therefore "poison, train honestly, then send `k·Δ`":
/// ``dataAttack`` is the poisoning and ``updateAttack`` a ``Boost`` of factor `k` (model
/// replacement, Bagdasaryan et al. 2020). A plan has a data attack, an update attack, or both.
///
/// When ``poolsUpdates`` is `false` (knowledge `.none`) each malicious client can craft alone
/// from a context holding only its own update; otherwise the adversary pools the updates of the
/// round's malicious clients (and, under `.omniscient`, is handed the honest ones).
public struct AttackPlan: Sendable {
    /// The YAML `kind` (`label-flip`, `alie`, ...).
    public var kind: String
    /// The poisoning of the malicious clients' samples, if any.
    public var dataAttack: (any DataAttack)?
    /// The crafting of their updates, if any (a ``Boost`` after a data attack with `boost`).
    public var updateAttack: (any UpdateAttack)?
    /// What the adversary may see (YAML `knowledge`, default the attack's minimum).
    public var knowledge: AttackKnowledge
    /// When the attack runs.
    public var schedule: AttackSchedule
    /// The share of clients that are malicious, in (0, 1] (ignored when ``clients`` is set).
    public var fraction: Double
    /// An explicit list of malicious clients (YAML `clients: [0, 3]`), or `nil`.
    public var clients: [ClientID]?
    /// The fewest updates the update attack must know each round (2 for ALIE and min-max /
    /// min-sum, which need a spread; 1 otherwise).
    public var minimumKnownUpdates: Int
    /// The kind of aggregation rule the attack is tailored to (`nil`: any rule), matched
    /// against the rule's ``AggregatorTraits`` in ``validate(againstRule:catalog:f:perRound:)``.
    public var target: AggregatorTraits.Trait?
    /// Where the plan sits in the scenario (`attack`), for error messages.
    public var keyPath: String

    /// Whether malicious clients send a data sketch computed from their *real* samples while
    /// training on poisoned ones (`forge_sketch: true`), an adaptive move against sketch-based
    /// detection.
    public var forgesSketch = false

    /// Whether an attack tailored to a kind of rule (``target``) may run against any rule
    /// (`any_rule: true`), as Cao et al. (NDSS 2021, FLTrust) run Fang et al.'s Krum and trim
    /// attacks against FedAvg, median and FLTrust too: the attack is crafted as for its own kind
    /// of rule and transferred unchanged.
    public var anyRule = false

    /// Creates a plan.
    public init(
        kind: String, dataAttack: (any DataAttack)? = nil, updateAttack: (any UpdateAttack)? = nil,
        knowledge: AttackKnowledge? = nil, schedule: AttackSchedule = .always, fraction: Double = 0.2,
        clients: [ClientID]? = nil, minimumKnownUpdates: Int = 1, target: AggregatorTraits.Trait? = nil, keyPath: String = "attack"
    ) {
        self.kind = kind
        self.dataAttack = dataAttack
        self.updateAttack = updateAttack
        self.knowledge = knowledge ?? updateAttack?.requiredKnowledge ?? .none
        self.schedule = schedule
        self.fraction = fraction
        self.clients = clients
        self.minimumKnownUpdates = minimumKnownUpdates
        self.target = target
        self.keyPath = keyPath
    }

    /// What the attack is after: the data attack's objective when there is one, else the
    /// update attack's (`.untargeted` for every model-poisoning attack here).
    public var objective: AttackObjective { dataAttack?.objective ?? updateAttack?.objective ?? .untargeted }

    /// The least knowledge the plan needs.
    public var requiredKnowledge: AttackKnowledge { updateAttack?.requiredKnowledge ?? .none }

    /// Whether the adversary must pool the malicious clients' updates before crafting.
    public var poolsUpdates: Bool { updateAttack != nil && knowledge > .none }

    /// Whether the attack runs in `round` (1-based).
    public func isActive(round: Int) -> Bool { schedule.isActive(round: round) }

    // MARK: Malicious clients

    /// The generator stream of the malicious-client draw: `SeededGenerator(seed:, stream: [selectionStream])`.
    public static let selectionStream: UInt64 = 0x4D41_4C49_4349_4F55  // "MALICIOU"

    /// How many of `count` clients are malicious: ``clients``'s size, or `⌊fraction · count⌋`
    /// (at least 1; exact for the decimal fraction written, ``FractionalCount``: 0.29 · 100 gives 29).
    public func maliciousCount(among count: Int) -> Int {
        if let clients { return clients.count }
        return min(count, max(1, FractionalCount.floor(fraction, of: count)))
    }

    /// The malicious clients among `0..<count`, sorted: ``clients`` when given, else
    /// ``maliciousCount(among:)`` clients drawn without replacement by
    /// `SeededGenerator(seed: seed, stream: [AttackPlan.selectionStream])`.
    /// - Parameters:
    ///   - count: `clients.count` of the scenario.
    ///   - seed: the scenario seed.
    /// - Throws: ``ConfigError`` `.invalidValue` at `attack.clients` when a listed client is not
    ///   in `0..<count`, or at the plan's path when `count < 1`.
    public func maliciousClients(count: Int, seed: UInt64) throws(ConfigError) -> [ClientID] {
        guard count >= 1 else { throw ConfigError(.invalidValue, keyPath: keyPath, "an attack needs at least one client, got \(count)") }
        if let clients {
            if let outside = clients.first(where: { $0.rawValue >= count }) {
                throw ConfigError(.invalidValue, keyPath: join("clients"), "client \(outside.rawValue) is not in 0..<\(count) (clients.count = \(count))")
            }
            return clients.sorted()
        }
        var rng = SeededGenerator(seed: seed, stream: [Self.selectionStream])
        return rng.sample(maliciousCount(among: count), from: count).map(ClientID.init)
    }

    // MARK: Crafting

    /// The context of ``UpdateAttack/craft(_:using:)``, filtered by ``knowledge``: the benign
    /// updates are passed on only under `.omniscient` (under `.partial` the adversary knows the
    /// malicious clients' own honest updates, under `.none` a client knows its own).
    /// - Parameters:
    ///   - round: the round.
    ///   - maliciousUpdates: the malicious clients' honest (or honest-on-poisoned) updates, in client order.
    ///   - benignUpdates: the honest clients' updates of the round (dropped unless `.omniscient`).
    ///   - totalClients: the number of updates the coordinator will merge this round.
    ///   - targetRule: the aggregation rule's YAML kind.
    ///   - assumedByzantine: the rule's `f`, when it has one.
    public func context(
        round: Int, maliciousUpdates: [ParameterVector], benignUpdates: [ParameterVector] = [], totalClients: Int,
        targetRule: String? = nil, assumedByzantine: Int? = nil
    ) -> AttackContext {
        AttackContext(
            round: round, maliciousUpdates: maliciousUpdates, benignUpdates: knowledge == .omniscient ? benignUpdates : [],
            totalClients: totalClients, targetRule: targetRule, assumedByzantine: assumedByzantine)
    }

    // MARK: Scenario validation

    /// The malicious updates expected per round of `perRound`: `min(clients.count, perRound)`
    /// for an explicit list, else `max(1, ⌊fraction · perRound⌋)`.
    public func maliciousPerRound(_ perRound: Int) -> Int {
        if let clients { return min(clients.count, perRound) }
        return max(1, FractionalCount.floor(fraction, of: perRound))
    }

    /// Refuses attack/defense combinations that cannot work, before any process starts.
    ///
    /// Checks, with `m` = ``maliciousPerRound(_:)``:
    /// - an attack tailored to a kind of rule (``target``: `fang-krum` → rules that select by
    ///   Krum scores, `fang-trim` → coordinate-wise rules, as the rules' traits in `catalog`
    ///   declare) runs against one of them, unless ``anyRule``;
    /// - `fang-krum` knows an `f` (its own `f` or the rule's);
    /// - the adversary knows at least ``minimumKnownUpdates`` updates per round: `m` under
    ///   `.partial`, `perRound` under `.omniscient`. **Choice:** this uses the expected `m`; a
    ///   round that samples fewer malicious clients makes `craft` throw
    ///   ``AttackError`` `.insufficientKnowledge`, and the runtime should let those clients send
    ///   their honest updates for that round;
    /// - an omniscient attack that needs benign updates leaves at least one (`m < perRound`);
    /// - ALIE has `s = ⌊n/2 + 1⌋ − m > 0` (else its `z` is infinite), with `n = perRound`.
    /// - Parameters:
    ///   - kind: the aggregation rule's YAML kind (`defense.aggregator.kind`).
    ///   - catalog: every rule's traits by kind (`AggregatorRegistry.standard.catalog`).
    ///   - f: the rule's `f`, when it has one.
    ///   - perRound: the updates merged per round (`clients.per_round`).
    /// - Throws: ``ConfigError`` `.invalidValue` at the plan's key path with the reason.
    public func validate(againstRule kind: String, catalog: [String: AggregatorTraits], f: Int?, perRound: Int) throws(ConfigError) {
        guard perRound >= 1 else { throw ConfigError(.invalidValue, keyPath: keyPath, "needs at least one update per round, got \(perRound)") }
        let m = maliciousPerRound(perRound)
        if let target, !anyRule, catalog[kind]?.has(target) != true {
            let targets = catalog.filter { $0.value.has(target) }.keys.sorted()
            throw ConfigError(
                .invalidValue, keyPath: join("kind"),
                "\(self.kind) targets \(target) rules (\(targets.joined(separator: ", "))) but defense.aggregator is \(kind)")
        }
        if let fang = updateAttack as? FangKrum, fang.f == nil, f == nil {
            throw ConfigError(.invalidValue, keyPath: join("f"), "fang-krum needs the rule's f; set attack.f or defense.aggregator.f")
        }
        guard let updateAttack else { return }
        let known = knowledge == .omniscient ? perRound : (knowledge == .partial ? m : 1)
        if known < minimumKnownUpdates {
            throw ConfigError(
                .invalidValue, keyPath: clients == nil ? join("fraction") : join("clients"),
                "\(self.kind) with knowledge \(knowledge.rawValue) needs at least \(minimumKnownUpdates) malicious updates per round to estimate "
                    + "their spread, got \(m) of \(perRound)" + (knowledge == .partial ? " (or use knowledge: omniscient)" : ""))
        }
        if updateAttack.requiredKnowledge == .omniscient, m >= perRound {
            throw ConfigError(.invalidValue, keyPath: join("fraction"), "\(self.kind) needs at least one benign update per round, but all \(perRound) are malicious")
        }
        if updateAttack is ALIE, (updateAttack as? ALIE)?.z == nil, ALIE.z(n: perRound, m: m) == nil {
            throw ConfigError(
                .invalidValue, keyPath: join("fraction"),
                "alie needs s = floor(n/2 + 1) - m > 0, got n = \(perRound), m = \(m) (s = \(perRound / 2 + 1 - m)); lower the fraction or set z")
        }
    }

    private func join(_ key: String) -> String { keyPath.isEmpty ? key : "\(keyPath).\(key)" }
}
