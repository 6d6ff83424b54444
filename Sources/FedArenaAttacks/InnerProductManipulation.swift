import FedArenaCore
import FedArenaNumerics

/// Inner-product manipulation (IPM): every malicious client sends `−ε · μ`, the mean of the
/// known honest updates reversed and shrunk, so that the aggregate's inner product with the true
/// gradient turns negative while the crafted update stays close to the benign ones.
///
/// Xie, Koyejo and Gupta 2019, "Fall of Empires: Breaking Byzantine-tolerant SGD by Inner
/// Product Manipulation", UAI.
///
/// YAML: `{kind: ipm, epsilon: 0.5}` (`epsilon` > 0, default 0.5; the paper uses 0.1 against
/// Krum-like rules and larger values against mean-like ones). Knowledge `.partial`: `μ` is the
/// mean of the malicious clients' own honest updates, plus the benign ones under `.omniscient`.
public struct InnerProductManipulation: UpdateAttack {
    /// The factor `ε`.
    public var epsilon: Double

    /// Creates the attack.
    /// - Parameter epsilon: `ε` > 0.
    /// - Throws: ``AttackError`` `.invalidConfiguration` unless `epsilon` is finite and positive.
    public init(epsilon: Double = 0.5) throws(AttackError) {
        guard epsilon.isFinite, epsilon > 0 else {
            throw AttackError(.invalidConfiguration, "ipm needs a finite epsilon > 0, got epsilon = \(epsilon)")
        }
        self.epsilon = epsilon
    }

    /// `ipm`.
    public var name: String { "ipm" }
    /// `.untargeted`.
    public var objective: AttackObjective { .untargeted }
    /// `.partial`.
    public var requiredKnowledge: AttackKnowledge { .partial }

    /// Returns `−ε · μ` for every malicious client.
    /// - Throws: ``AttackError`` `.invalidInput` for no, mismatched or non-finite updates.
    public func craft(_ context: AttackContext, using rng: inout some RandomNumberGenerator) throws(AttackError) -> [ParameterVector] {
        let (known, d) = try AttackMath.knownUpdates(context, attack: name, atLeast: 1)
        let mean = AttackMath.mean(known, dimension: d)
        return AttackMath.copies(AttackMath.vector(mean.map { -epsilon * $0 }), context.maliciousUpdates.count)
    }
}
