import FedArenaCore
import FedArenaNumerics

/// Gaussian noise: each malicious client sends a random vector, every coordinate drawn from
/// `N(0, σ²)`, in place of its update.
///
/// Blanchard, El Mhamdi, Guerraoui and Stainer 2017, "Machine Learning with Adversaries:
/// Byzantine Tolerant Gradient Descent", NeurIPS (Gaussian Byzantine workers); Fang et al.
/// 2020 use it as their baseline "Gaussian attack".
///
/// YAML: `{kind: gaussian, sigma: 200}` (`sigma` > 0, default 1). Knowledge `.none`; the
/// honest update is used only for its dimension. Clients draw independently, in client order,
/// from the generator passed to ``craft(_:using:)``.
public struct GaussianNoise: UpdateAttack {
    /// The standard deviation `σ` per coordinate.
    public var sigma: Double

    /// Creates the attack.
    /// - Parameter sigma: `σ` > 0.
    /// - Throws: ``AttackError`` `.invalidConfiguration` unless `sigma` is finite and positive.
    public init(sigma: Double = 1) throws(AttackError) {
        guard sigma.isFinite, sigma > 0 else {
            throw AttackError(.invalidConfiguration, "gaussian needs a finite sigma > 0, got sigma = \(sigma)")
        }
        self.sigma = sigma
    }

    /// `gaussian`.
    public var name: String { "gaussian" }
    /// `.untargeted`.
    public var objective: AttackObjective { .untargeted }
    /// `.none`.
    public var requiredKnowledge: AttackKnowledge { .none }

    /// Returns one `N(0, σ²)` vector per malicious client.
    /// - Throws: ``AttackError`` `.invalidInput` for no, mismatched or non-finite updates.
    public func craft(_ context: AttackContext, using rng: inout some RandomNumberGenerator) throws(AttackError) -> [ParameterVector] {
        let d = try AttackMath.dimension(of: context.maliciousUpdates, attack: name, what: "malicious updates")
        return context.maliciousUpdates.map { _ in
            var values = [Float](repeating: 0, count: d)
            var j = 0
            while j < d {
                let (a, b) = rng.standardNormalPair()
                values[j] = Float(sigma * a)
                if j + 1 < d { values[j + 1] = Float(sigma * b) }
                j += 2
            }
            return ParameterVector(values)
        }
    }
}
