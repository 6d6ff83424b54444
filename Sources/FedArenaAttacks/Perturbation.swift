import FedArenaCore
import FedArenaNumerics

/// The perturbation direction `∇p` of Shejwalkar and Houmansadr's AGR-agnostic attacks
/// (``MinMax``, ``MinSum``): the crafted update is `μ + γ·∇p`, `μ` the mean of the reference
/// updates.
///
/// Shejwalkar and Houmansadr 2021, "Manipulating the Byzantine: Optimizing Model Poisoning
/// Attacks and Defenses for Federated Learning", NDSS, §IV-B.
public enum Perturbation: String, Sendable, CaseIterable {
    /// Inverse unit vector, `−μ/‖μ‖` (YAML `unit`).
    case unit
    /// Inverse sign, `−sign(μ)` (YAML `sign`).
    case sign
    /// Inverse standard deviation, `−σ` (YAML `std`).
    case std

    /// `∇p` for the mean `mean` and standard deviation `std` of the reference updates.
    func direction(mean: [Double], std: [Double]) -> [Double] {
        switch self {
        case .unit:
            let norm = AttackMath.squaredNorm(mean).squareRoot()
            return norm > 0 ? mean.map { -$0 / norm } : mean.map { _ in 0 }
        case .sign:
            return mean.map { $0 > 0 ? -1 : ($0 < 0 ? 1 : 0) }
        case .std:
            return std.map { -$0 }
        }
    }
}

/// The γ search shared by ``MinMax`` and ``MinSum``.
///
/// Every `‖μ + γ∇p − ∇_i‖²` is a convex quadratic in `γ`, and `γ = 0` is feasible for both
/// objectives, so the feasible `γ ≥ 0` form an interval `[0, γ*]`: the search doubles `γ`
/// from `γ_init` while feasible (or halves the bracket below `γ_init` when it is not), then
/// bisects (Algorithm 1 of the paper, with the bracket grown instead of capped at `2γ_init`)
/// until the bracket is within the relative tolerance `τ` (at most 200 steps). It returns the
/// bracket's feasible end, so the constraint always holds.
enum AgnosticSearch {
    /// Which threshold the crafted update must respect.
    enum Objective {
        /// `max_i ‖m − ∇_i‖² ≤ max_{i,j} ‖∇_i − ∇_j‖²` (min-max).
        case maximum
        /// `Σ_i ‖m − ∇_i‖² ≤ max_i Σ_j ‖∇_i − ∇_j‖²` (min-sum).
        case sum
    }

    struct Result {
        var update: ParameterVector
        var gamma: Double
    }

    static func run(
        _ context: AttackContext, attack: String, perturbation: Perturbation, objective: Objective, gammaInit: Double, tolerance: Double
    ) throws(AttackError) -> Result {
        let (reference, d) = try AttackMath.knownUpdates(context, attack: attack, atLeast: 2)
        let n = reference.count
        let mean = AttackMath.mean(reference, dimension: d)
        let std = AttackMath.standardDeviation(reference, mean: mean)
        let p = perturbation.direction(mean: mean, std: std)
        let pNorm = AttackMath.squaredNorm(p)
        let pairwise = AttackMath.pairwiseSquaredDistances(reference)
        // ‖μ + γp − ∇_i‖² = a_i + 2γ b_i + γ²‖p‖².
        let a = reference.map { AttackMath.squaredDistance(mean, $0) }
        let pMean = zip(p, mean).reduce(0) { $0 + $1.0 * $1.1 }
        let b = reference.map { pMean - AttackMath.dot(p, $0) }
        let threshold: Double
        switch objective {
        case .maximum: threshold = pairwise.max() ?? 0
        case .sum: threshold = (0..<n).map { i in (0..<n).reduce(0) { $0 + pairwise[i * n + $1] } }.max() ?? 0
        }
        func feasible(_ gamma: Double) -> Bool {
            switch objective {
            case .maximum: return (0..<n).allSatisfy { a[$0] + 2 * gamma * b[$0] + gamma * gamma * pNorm <= threshold }
            case .sum: return (0..<n).reduce(0) { $0 + a[$1] + 2 * gamma * b[$1] + gamma * gamma * pNorm } <= threshold
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
        return Result(update: AttackMath.vector((0..<d).map { mean[$0] + gamma * p[$0] }), gamma: gamma)
    }
}
