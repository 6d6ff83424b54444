import FedArenaCore
import FedArenaNumerics

/// Min-Max and Min-Sum (AGR-agnostic), one attack with an objective (``criterion``): every
/// malicious client sends `μ + γ·∇p` with the largest `γ` that keeps the crafted update as
/// close to the reference updates as they are to each other, by the objective's measure.
///
/// Shejwalkar and Houmansadr 2021, "Manipulating the Byzantine: Optimizing Model Poisoning
/// Attacks and Defenses for Federated Learning", NDSS (§IV-B, Algorithm 1): find the largest `γ`
/// with
/// - Min-Max (``Criterion/minMax``): `max_i ‖μ + γ∇p − ∇_i‖² ≤ max_{i,j} ‖∇_i − ∇_j‖²`;
/// - Min-Sum (``Criterion/minSum``): `Σ_i ‖μ + γ∇p − ∇_i‖² ≤ max_i Σ_j ‖∇_i − ∇_j‖²`;
/// (see ``Perturbation`` for `∇p`). Pairwise distances come from ``PairwiseDistances``, the
/// defenders' routine, so the threshold is accurate when the updates share a large component.
///
/// The search: every `‖μ + γ∇p − ∇_i‖²` is a convex quadratic in `γ` and `γ = 0` is feasible
/// for both objectives, so the feasible `γ ≥ 0` form an interval `[0, γ*]`: `γ` doubles from
/// `γ_init` while feasible (or the bracket below `γ_init` is halved when it is not), then
/// bisects (the paper's Algorithm 1 with the bracket grown instead of capped at `2γ_init`)
/// until the bracket is within the relative tolerance (at most 200 steps). The bracket's
/// feasible end is returned, so the constraint always holds.
///
/// YAML: `{kind: min-max, perturbation: std, knowledge: partial}` or `{kind: min-sum, ...}`
/// (`perturbation`: `unit|sign|std`, default `std`; `gamma_init` default 10; `tolerance`
/// default 1e-5). Knowledge `.partial`: the reference updates are the malicious clients' own
/// honest updates; under `.omniscient` the benign ones join them. Needs at least 2 reference
/// updates.
public struct AgnosticAttack: UpdateAttack {
    /// The search's objective: which measure the crafted update must stay within.
    public enum Criterion: String, Sendable, Equatable, CaseIterable {
        /// The largest distance to a reference update (YAML `min-max`).
        case minMax = "min-max"
        /// The sum of squared distances to the reference updates (YAML `min-sum`).
        case minSum = "min-sum"
    }

    /// The search's objective (min-max or min-sum).
    public var criterion: Criterion
    /// The direction `∇p`.
    public var perturbation: Perturbation
    /// The first `γ` tried.
    public var gammaInit: Double
    /// The relative tolerance of the bisection.
    public var tolerance: Double

    /// Creates the attack.
    /// - Parameters:
    ///   - criterion: min-max or min-sum.
    ///   - perturbation: the direction, default `std`.
    ///   - gammaInit: the first `γ`, > 0.
    ///   - tolerance: the relative bisection tolerance, in (0, 1).
    /// - Throws: ``AttackError`` `.invalidConfiguration` unless `gammaInit` > 0 and
    ///   0 < `tolerance` < 1.
    public init(criterion: Criterion, perturbation: Perturbation = .std, gammaInit: Double = 10, tolerance: Double = 1e-5) throws(AttackError) {
        guard gammaInit.isFinite, gammaInit > 0 else {
            throw AttackError(.invalidConfiguration, "\(criterion.rawValue) needs gamma_init > 0, got \(gammaInit)")
        }
        guard tolerance.isFinite, tolerance > 0, tolerance < 1 else {
            throw AttackError(.invalidConfiguration, "\(criterion.rawValue) needs 0 < tolerance < 1, got \(tolerance)")
        }
        self.criterion = criterion
        self.perturbation = perturbation
        self.gammaInit = gammaInit
        self.tolerance = tolerance
    }

    /// `min-max` or `min-sum`.
    public var name: String { criterion.rawValue }
    /// `.untargeted`.
    public var objective: AttackObjective { .untargeted }
    /// `.partial`.
    public var requiredKnowledge: AttackKnowledge { .partial }

    /// Sends the update of ``search(_:)`` from every malicious client.
    public func craft(_ context: AttackContext, using rng: inout some RandomNumberGenerator) throws(AttackError) -> [ParameterVector] {
        AttackMath.copies(try search(context).update, context.maliciousUpdates.count)
    }

    /// The crafted update and its `γ`: the largest feasible `γ` within the relative tolerance.
    /// - Throws: ``AttackError`` `.insufficientKnowledge` with fewer than 2 reference updates,
    ///   `.invalidInput` for mismatched or non-finite updates.
    public func search(_ context: AttackContext) throws(AttackError) -> (update: ParameterVector, gamma: Double) {
        let (reference, d) = try AttackMath.knownUpdates(context, attack: name, atLeast: 2)
        let n = reference.count
        let mean = AttackMath.mean(reference, dimension: d)
        let std = AttackMath.standardDeviation(reference, mean: mean)
        let p = perturbation.direction(mean: mean, std: std)
        let pNorm = VectorMath.sumOfSquares(of: p)
        let pairwise = AttackMath.pairwiseSquaredDistances(reference)
        // ‖μ + γp − ∇_i‖² = a_i + 2γ b_i + γ²‖p‖².
        let a = reference.map { VectorMath.squaredDistance(mean, to: $0.values) }
        let pMean = zip(p, mean).reduce(0) { $0 + $1.0 * $1.1 }
        let b = reference.map { pMean - VectorMath.dot(p, with: $0.values) }
        let threshold: Double
        switch criterion {
        case .minMax: threshold = pairwise.max() ?? 0
        case .minSum: threshold = (0..<n).map { i in (0..<n).reduce(0) { $0 + pairwise[i * n + $1] } }.max() ?? 0
        }
        func feasible(_ gamma: Double) -> Bool {
            switch criterion {
            case .minMax: return (0..<n).allSatisfy { a[$0] + 2 * gamma * b[$0] + gamma * gamma * pNorm <= threshold }
            case .minSum: return (0..<n).reduce(0) { $0 + a[$1] + 2 * gamma * b[$1] + gamma * gamma * pNorm } <= threshold
            }
        }
        var gamma = 0.0
        if pNorm > 0 {
            var low = 0.0
            var high = gammaInit
            if feasible(high) {
                low = high
                while feasible(high * 2), high < 1e30 { high *= 2; low = high }
                high *= 2
            }
            var steps = 0
            while high - low > tolerance * high, steps < 200 {
                let middle = 0.5 * (low + high)
                if feasible(middle) { low = middle } else { high = middle }
                steps += 1
            }
            gamma = low
        }
        return (AttackMath.vector((0..<d).map { mean[$0] + gamma * p[$0] }), gamma)
    }
}
