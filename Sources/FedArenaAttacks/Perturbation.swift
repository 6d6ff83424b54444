import FedArenaCore
import FedArenaNumerics

/// The perturbation direction `∇p` of Shejwalkar and Houmansadr's AGR-agnostic attacks
/// (``AgnosticAttack``, YAML `min-max` and `min-sum`): the crafted update is `μ + γ·∇p`, `μ`
/// the mean of the reference updates.
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
            let norm = VectorMath.sumOfSquares(of: mean).squareRoot()
            return norm > 0 ? mean.map { -$0 / norm } : mean.map { _ in 0 }
        case .sign:
            return mean.map { $0 > 0 ? -1 : ($0 < 0 ? 1 : 0) }
        case .std:
            return std.map { -$0 }
        }
    }
}
