import FedArenaCore
import FedArenaNumerics

/// "A Little Is Enough" (ALIE): every malicious client sends `μ − z·σ`, the coordinate-wise
/// mean of the updates the adversary knows shifted by `z` standard deviations, small enough to
/// hide among the benign updates yet consistently biased.
///
/// Baruch, Baruch and Goldberg 2019, "A Little Is Enough: Circumventing Defenses For
/// Distributed Learning", NeurIPS. With `n` updates in the round and `m` attackers,
/// `s = ⌊n/2 + 1⌋ − m` benign updates must be won over and `z = Φ⁻¹((n − s)/n)`
/// (e.g. `n = 50, m = 10`: `s = 16`, `z = Φ⁻¹(0.68) ≈ 0.4677`).
///
/// YAML: `{kind: alie, knowledge: partial}` (optional `z` overrides the formula).
/// Knowledge `.partial`: `μ` and `σ` (sample standard deviation, divisor `k − 1`, as the
/// reference implementations' `torch.std`) come from the malicious clients' own honest
/// updates, plus the benign ones under `.omniscient`. Needs at least 2 known updates.
/// `n` is ``AttackContext/totalClients`` and `m` the number of malicious updates.
public struct ALIE: UpdateAttack {
    /// A fixed `z`, or `nil` for the paper's formula.
    public var z: Double?

    /// Creates the attack.
    /// - Parameter z: a fixed `z` (finite), or `nil` to derive it from `n` and `m` each round.
    /// - Throws: ``AttackError`` `.invalidConfiguration` for a non-finite `z`.
    public init(z: Double? = nil) throws(AttackError) {
        if let z, !z.isFinite { throw AttackError(.invalidConfiguration, "alie needs a finite z, got \(z)") }
        self.z = z
    }

    /// `alie`.
    public var name: String { "alie" }
    /// `.untargeted`.
    public var objective: AttackObjective { .untargeted }
    /// `.partial`.
    public var requiredKnowledge: AttackKnowledge { .partial }

    /// The paper's `z = Φ⁻¹((n − s)/n)` with `s = ⌊n/2 + 1⌋ − m`, or `nil` when `s ≤ 0` (the
    /// attackers are a majority: `z` would be infinite) or `m < 1`.
    /// - Parameters:
    ///   - n: the number of updates in the round.
    ///   - m: the number of attackers among them.
    public static func z(n: Int, m: Int) -> Double? {
        let s = n / 2 + 1 - m
        guard m >= 1, n >= 1, s > 0, s < n else { return nil }
        return NormalDistribution.quantile(Double(n - s) / Double(n))
    }

    /// Returns `μ − z·σ` for every malicious client.
    /// - Throws: ``AttackError`` `.insufficientKnowledge` with fewer than 2 known updates;
    ///   `.invalidInput` for mismatched or non-finite updates, or when `s ≤ 0` and no fixed `z`.
    public func craft(_ context: AttackContext, using rng: inout some RandomNumberGenerator) throws(AttackError) -> [ParameterVector] {
        let (known, d) = try AttackMath.knownUpdates(context, attack: name, atLeast: 2)
        let m = context.maliciousUpdates.count
        guard let z = z ?? Self.z(n: context.totalClients, m: m) else {
            throw AttackError(
                .invalidInput,
                "alie needs s = floor(n/2 + 1) - m > 0, got n = \(context.totalClients), m = \(m) (s = \(context.totalClients / 2 + 1 - m))")
        }
        let mean = AttackMath.mean(known, dimension: d)
        let std = AttackMath.standardDeviation(known, mean: mean)
        let crafted = AttackMath.vector((0..<d).map { mean[$0] - z * std[$0] })
        return AttackMath.copies(crafted, m)
    }
}
