import FedArenaCore
import FedArenaNumerics

/// Min-Max (AGR-agnostic): every malicious client sends `μ + γ·∇p` with the largest `γ` whose
/// maximum squared distance to the reference updates stays within the largest squared distance
/// between two reference updates.
///
/// Shejwalkar and Houmansadr 2021, "Manipulating the Byzantine: Optimizing Model Poisoning
/// Attacks and Defenses for Federated Learning", NDSS: find the largest `γ` with
/// `max_i ‖μ + γ∇p − ∇_i‖² ≤ max_{i,j} ‖∇_i − ∇_j‖²` (see ``Perturbation`` for `∇p`, and
/// the search notes on ``MinMax/search(_:)``).
///
/// YAML: `{kind: min-max, perturbation: std, knowledge: partial}` (`perturbation`:
/// `unit|sign|std`, default `std`; `gamma_init` default 10; `tolerance` default 1e-5).
/// Knowledge `.partial`: the reference updates are the malicious clients' own honest updates;
/// under `.omniscient` the benign ones join them. Needs at least 2 reference updates.
public struct MinMax: UpdateAttack {
    /// The direction `∇p`.
    public var perturbation: Perturbation
    /// The first `γ` tried.
    public var gammaInit: Double
    /// The relative tolerance of the bisection.
    public var tolerance: Double

    /// Creates the attack.
    /// - Throws: ``AttackError`` `.invalidConfiguration` unless `gammaInit` > 0 and
    ///   0 < `tolerance` < 1.
    public init(perturbation: Perturbation = .std, gammaInit: Double = 10, tolerance: Double = 1e-5) throws(AttackError) {
        try Self.check(gammaInit: gammaInit, tolerance: tolerance, attack: "min-max")
        self.perturbation = perturbation
        self.gammaInit = gammaInit
        self.tolerance = tolerance
    }

    /// `min-max`.
    public var name: String { "min-max" }
    /// `.untargeted`.
    public var objective: AttackObjective { .untargeted }
    /// `.partial`.
    public var requiredKnowledge: AttackKnowledge { .partial }

    /// Sends the update of ``search(_:)`` from every malicious client.
    public func craft(_ context: AttackContext, using rng: inout some RandomNumberGenerator) throws(AttackError) -> [ParameterVector] {
        AttackMath.copies(try search(context).update, context.maliciousUpdates.count)
    }

    /// The crafted update and its `γ`: the largest feasible `γ` within the relative tolerance
    /// (`γ` doubled from `gammaInit` while feasible, then bisected).
    /// - Throws: ``AttackError`` `.insufficientKnowledge` with fewer than 2 reference updates,
    ///   `.invalidInput` for mismatched or non-finite updates.
    public func search(_ context: AttackContext) throws(AttackError) -> (update: ParameterVector, gamma: Double) {
        let result = try AgnosticSearch.run(
            context, attack: name, perturbation: perturbation, objective: .maximum, gammaInit: gammaInit, tolerance: tolerance)
        return (result.update, result.gamma)
    }

    static func check(gammaInit: Double, tolerance: Double, attack: String) throws(AttackError) {
        guard gammaInit.isFinite, gammaInit > 0 else {
            throw AttackError(.invalidConfiguration, "\(attack) needs gamma_init > 0, got \(gammaInit)")
        }
        guard tolerance.isFinite, tolerance > 0, tolerance < 1 else {
            throw AttackError(.invalidConfiguration, "\(attack) needs 0 < tolerance < 1, got \(tolerance)")
        }
    }
}
