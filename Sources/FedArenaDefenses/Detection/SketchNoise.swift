import FedArenaCore
import Foundation

/// Gaussian-mechanism noise on the per-class mean embeddings of a ``DataSketch``
/// (Dwork and Roth 2014, "The Algorithmic Foundations of Differential Privacy", Theorem A.1).
///
/// ## Sensitivity
/// Every random Fourier feature lies in `[−√(2/D), √(2/D)]`, so `‖φ(x)‖₂ ≤ √2` and two
/// samples differ by `‖φ(x) − φ(x′)‖₂ ≤ 2√2`. The class mean `μ_c = (1/n_c) Σ φ(x_i)` over
/// `n_c` samples of class `c` therefore changes by at most `Δ₂ = 2√2 / n_c` (per coordinate
/// `2√(2/D) / n_c`) when one sample of the class is replaced by another of the same class.
/// Adding `N(0, σ_c² I_D)` with `σ_c = Δ₂ √(2 ln(1.25/δ)) / ε` makes `μ_c` (ε, δ)-DP for
/// `0 < ε < 1`; the classes are disjoint, so by parallel composition the whole sketch is
/// (ε, δ)-DP under replacement within a class.
///
/// Not protected: the label histogram (sent exactly, so class sizes are public) and a change
/// of a sample's label. Classes of a single sample get the same guarantee but are drowned in
/// noise (`σ_c` grows as `1/n_c`).
public struct SketchNoise: Sendable, Equatable {
    /// The privacy parameter ε, in (0, 1).
    public var epsilon: Double
    /// The privacy parameter δ, in (0, 1).
    public var delta: Double

    /// Creates a noise level.
    /// - Throws: ``DetectionError`` unless `0 < ε < 1` and `0 < δ < 1` (the range where the
    ///   classic Gaussian mechanism bound holds).
    public init(epsilon: Double, delta: Double) throws(DetectionError) {
        guard epsilon.isFinite, epsilon > 0, epsilon < 1 else {
            throw DetectionError("sketch noise needs 0 < epsilon < 1 (classic Gaussian mechanism), got \(epsilon)")
        }
        guard delta.isFinite, delta > 0, delta < 1 else {
            throw DetectionError("sketch noise needs 0 < delta < 1, got \(delta)")
        }
        self.epsilon = epsilon
        self.delta = delta
    }

    /// The L2 sensitivity `2√2 / n` of a class mean of `n` samples.
    public static func sensitivity(sampleCount n: Int) -> Double {
        2 * 2.0.squareRoot() / Double(max(n, 1))
    }

    /// The per-coordinate standard deviation `σ_c` for a class of `n` samples.
    public func standardDeviation(sampleCount n: Int) -> Double {
        Self.sensitivity(sampleCount: n) * (2 * log(1.25 / delta)).squareRoot() / epsilon
    }
}
