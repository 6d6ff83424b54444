import FedArenaCore
import FedArenaNumerics

/// Fang et al.'s attack on trimmed mean and median: per coordinate, push against the benign
/// direction with values just beyond the benign extremes.
///
/// Fang, Cao, Jia and Gong 2020, "Local Model Poisoning Attacks to Byzantine-Robust Federated
/// Learning", USENIX Security (full knowledge, §3.3 "Attacking Trimmed Mean", also used against
/// the median). Per coordinate `j`, with `s_j` the sign of the mean honest update and
/// `max_j`, `min_j` the extremes of the honest values, each malicious client draws uniformly:
/// - `s_j > 0` (benign values grow the coordinate): in `[min_j/b, min_j]` if `min_j > 0`,
///   else in `[b·min_j, min_j]`;
/// - `s_j < 0`: in `[max_j, b·max_j]` if `max_j > 0`, else in `[max_j, max_j/b]`;
/// - `s_j = 0`: 0.
///
/// The paper states the rule for model parameters; like the reference implementations
/// (Shejwalkar and Houmansadr 2021's `full_trim`), it is applied here to the updates.
/// YAML: `{kind: fang-trim, b: 2}` (`b` > 1, default 2). Knowledge `.omniscient`: the honest
/// values are the malicious clients' own honest updates and the benign ones.
public struct FangTrim: UpdateAttack {
    /// The spread factor `b`.
    public var b: Double

    /// Creates the attack.
    /// - Parameter b: the spread factor, > 1.
    /// - Throws: ``AttackError`` `.invalidConfiguration` unless `b` is finite and > 1.
    public init(b: Double = 2) throws(AttackError) {
        guard b.isFinite, b > 1 else { throw AttackError(.invalidConfiguration, "fang-trim needs b > 1, got b = \(b)") }
        self.b = b
    }

    /// `fang-trim`.
    public var name: String { "fang-trim" }
    /// `.untargeted`.
    public var objective: AttackObjective { .untargeted }
    /// `.omniscient`.
    public var requiredKnowledge: AttackKnowledge { .omniscient }

    /// Draws one crafted update per malicious client (independently, in client order).
    /// - Throws: ``AttackError`` `.invalidInput` for mismatched or non-finite updates.
    public func craft(_ context: AttackContext, using rng: inout some RandomNumberGenerator) throws(AttackError) -> [ParameterVector] {
        let (honest, d) = try AttackMath.knownUpdates(context, attack: name, atLeast: 1)
        let mean = AttackMath.mean(honest, dimension: d)
        var low = [Double](repeating: .infinity, count: d)
        var high = [Double](repeating: -.infinity, count: d)
        for update in honest {
            for j in 0..<d {
                let v = Double(update.values[j])
                low[j] = min(low[j], v)
                high[j] = max(high[j], v)
            }
        }
        var intervals = [(Double, Double)](repeating: (0, 0), count: d)
        for j in 0..<d {
            if mean[j] > 0 {
                let v = low[j]
                intervals[j] = v > 0 ? (v / b, v) : (b * v, v)
            } else if mean[j] < 0 {
                let v = high[j]
                intervals[j] = v > 0 ? (v, b * v) : (v, v / b)
            }
        }
        return context.maliciousUpdates.map { _ in
            ParameterVector(intervals.map { lo, hi in
                Float(lo + rng.unitInterval() * (hi - lo))
            })
        }
    }
}
