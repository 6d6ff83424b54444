import FedArenaCore
import FedArenaNumerics

/// Sign flipping: each malicious client sends its honest update reversed and scaled, `−k·Δ`.
///
/// Li, Xu, Chen, Giannakis and Ling 2019, "RSA: Byzantine-Robust Stochastic Aggregation
/// Methods for Distributed Learning from Heterogeneous Datasets", AAAI (the sign-flipping
/// attack); Karimireddy, He and Jaggi 2021 use the scaled form.
///
/// YAML: `{kind: sign-flip, scale: 4}` (`scale` > 0, default 1). Knowledge `.none`: each
/// update is crafted from the client's own honest update alone.
public struct SignFlip: UpdateAttack {
    /// The factor `k` of `−k·Δ`.
    public var scale: Double

    /// Creates the attack.
    /// - Parameter scale: `k` > 0.
    /// - Throws: ``AttackError`` `.invalidConfiguration` unless `scale` is finite and positive.
    public init(scale: Double = 1) throws(AttackError) {
        guard scale.isFinite, scale > 0 else {
            throw AttackError(.invalidConfiguration, "sign-flip needs a finite scale > 0, got scale = \(scale)")
        }
        self.scale = scale
    }

    /// `sign-flip`.
    public var name: String { "sign-flip" }
    /// `.untargeted`.
    public var objective: AttackObjective { .untargeted }
    /// `.none`.
    public var requiredKnowledge: AttackKnowledge { .none }

    /// Returns `−scale · Δ` for every malicious client's honest update `Δ`.
    /// - Throws: ``AttackError`` `.invalidInput` for no, mismatched or non-finite updates.
    public func craft(_ context: AttackContext, using rng: inout some RandomNumberGenerator) throws(AttackError) -> [ParameterVector] {
        _ = try AttackMath.dimension(of: context.maliciousUpdates, attack: name, what: "malicious updates")
        let factor = Float(-scale)
        return context.maliciousUpdates.map { update in
            var values = update.values
            VectorMath.scale(&values, by: factor)
            return ParameterVector(values)
        }
    }
}
