import FedArenaCore
import FedArenaNumerics

/// Boosting (model replacement): each malicious client sends its own update scaled by `k`,
/// so that it survives averaging with the benign ones.
///
/// Bagdasaryan, Veit, Hua, Estrin and Shmatikov 2020, "How To Backdoor Federated Learning",
/// AISTATS (model replacement, `γ = n / η`); Bhagoji, Chakraborty, Mittal and Calo 2019,
/// "Analyzing Federated Learning through an Adversarial Lens", ICML (explicit boosting).
///
/// YAML: as a plan key after a data attack, `{kind: backdoor, target: 0, boost: 10}`, the
/// client trains honestly on its *poisoned* samples and sends `k·Δ` (see ``AttackPlan``); on
/// its own, `{kind: boost, factor: 10}` scales the honest update of clean data (the naive
/// scaling attack). Knowledge `.none`.
public struct Boost: UpdateAttack {
    /// The factor `k`.
    public var factor: Double
    /// The objective of the data attack the boost follows (`.untargeted` on its own).
    public var objective: AttackObjective

    /// Creates the attack.
    /// - Parameters:
    ///   - factor: `k` > 0 (1 sends the update unchanged).
    ///   - objective: the objective of the data attack it amplifies.
    /// - Throws: ``AttackError`` `.invalidConfiguration` unless `factor` is finite and positive.
    public init(factor: Double, objective: AttackObjective = .untargeted) throws(AttackError) {
        guard factor.isFinite, factor > 0 else {
            throw AttackError(.invalidConfiguration, "boost needs a finite factor > 0, got \(factor)")
        }
        self.factor = factor
        self.objective = objective
    }

    /// `boost`.
    public var name: String { "boost" }
    /// `.none`.
    public var requiredKnowledge: AttackKnowledge { .none }

    /// Returns `factor · Δ` for every malicious client's update `Δ`.
    /// - Throws: ``AttackError`` `.invalidInput` for no, mismatched or non-finite updates.
    public func craft(_ context: AttackContext, using rng: inout some RandomNumberGenerator) throws(AttackError) -> [ParameterVector] {
        _ = try AttackMath.dimension(of: context.maliciousUpdates, attack: name, what: "malicious updates")
        let k = Float(factor)
        return context.maliciousUpdates.map { update in
            var values = update.values
            VectorMath.scale(&values, by: k)
            return ParameterVector(values)
        }
    }
}
