import FedArenaCore
import FedArenaNumerics

/// Mimic: every malicious client sends a copy of one honest client's update, so that client's
/// data is over-represented in the aggregate and the other honest clients' data under-represented.
/// Each copy is a perfectly plausible update, so no outlier test can reject it; the damage comes
/// from the heterogeneity of the honest clients' data alone.
///
/// Karimireddy, He and Jaggi 2022, "Byzantine-Robust Learning on Heterogeneous Datasets via
/// Bucketing", ICLR (§3, the mimic attack). The paper's attackers either copy a fixed honest
/// worker, or pick the worker to copy by a heuristic: estimate the direction `z` of largest
/// variance of the honest updates during a warm-up phase and copy the honest update with the
/// largest projection on `z`.
///
/// Two ways to choose the client to copy (``Target``):
/// - ``Target/fixed(_:)`` `k`: the `k`-th honest update of the round, in client order (the
///   paper's fixed target; with every client taking part in every round, the same client each round).
/// - ``Target/mostExtreme``: the paper's heuristic computed afresh every round (this attack keeps
///   no memory between rounds): `z` is the top principal direction of the round's honest updates,
///   found by power iteration on their `k × k` Gram matrix after centring, and the copied update is
///   the one whose centred projection on `z` is largest in absolute value (the lowest index on a tie).
///   The paper fixes the target after its warm-up instead, so with a per-round choice the target may
///   change between rounds when two clients are about equally extreme.
///
/// YAML: `{kind: mimic, target: auto}` or `{kind: mimic, target: 3}` (default `auto`), with
/// knowledge `omniscient` (the honest updates are copied, so the adversary must see them).
public struct Mimic: UpdateAttack {
    /// Which honest update to copy.
    public enum Target: Sendable, Equatable {
        /// The honest update at this index of ``AttackContext/benignUpdates`` (client order).
        case fixed(Int)
        /// The honest update most extreme along the honest updates' top principal direction.
        case mostExtreme
    }

    /// The power-iteration steps of ``Target/mostExtreme`` (on a `k × k` matrix, `k` ≤ clients).
    static let powerIterations = 200

    /// Which honest update is copied.
    public var target: Target

    /// Creates the attack.
    /// - Parameter target: which honest update to copy.
    /// - Throws: ``AttackError`` `.invalidConfiguration` for a negative fixed index.
    public init(target: Target = .mostExtreme) throws(AttackError) {
        if case .fixed(let index) = target, index < 0 {
            throw AttackError(.invalidConfiguration, "mimic needs a target index >= 0, got \(index)")
        }
        self.target = target
    }

    /// `mimic`.
    public var name: String { "mimic" }
    /// `.untargeted`.
    public var objective: AttackObjective { .untargeted }
    /// `.omniscient`: the copied update is an honest client's.
    public var requiredKnowledge: AttackKnowledge { .omniscient }

    /// Returns copies of the chosen honest update, one per malicious client.
    /// - Throws: ``AttackError`` `.insufficientKnowledge` when the round has no honest update
    ///   (or fewer than a fixed index needs); `.invalidInput` for mismatched or non-finite updates.
    public func craft(_ context: AttackContext, using rng: inout some RandomNumberGenerator) throws(AttackError) -> [ParameterVector] {
        _ = try AttackMath.knownUpdates(context, attack: name, atLeast: 1)
        let benign = context.benignUpdates
        if benign.isEmpty {
            throw AttackError(.insufficientKnowledge, "mimic copies an honest update but the round gave the adversary none (knowledge omniscient is needed)")
        }
        let chosen: Int
        switch target {
        case .fixed(let index):
            guard index < benign.count else {
                throw AttackError(.insufficientKnowledge, "mimic target \(index) is beyond the round's \(benign.count) honest updates")
            }
            chosen = index
        case .mostExtreme:
            chosen = Self.mostExtremeIndex(benign, using: &rng)
        }
        return AttackMath.copies(benign[chosen], context.maliciousUpdates.count)
    }

    /// The index of the update with the largest absolute centred projection on the top
    /// principal direction of `updates` (0 when they all coincide).
    ///
    /// With `C` the centred updates as rows and `u` the top unit eigenvector of the Gram matrix
    /// `G = C Cᵀ` (eigenvalue `λ`), the top principal direction is `z = Cᵀu / √λ` and the
    /// projections are `C z = √λ · u`: the most extreme update is the largest `|u_i|`.
    /// - Parameters:
    ///   - updates: finite updates of one dimension, at least one.
    ///   - rng: draws the power iteration's start vector.
    /// - Returns: an index into `updates`.
    static func mostExtremeIndex(_ updates: [ParameterVector], using rng: inout some RandomNumberGenerator) -> Int {
        let k = updates.count
        guard k > 1, let d = updates.first?.count else { return 0 }
        let mean = AttackMath.mean(updates, dimension: d)
        let centred = updates.map { update in (0..<d).map { Double(update.values[$0]) - mean[$0] } }
        var gram = [Double](repeating: 0, count: k * k)
        for i in 0..<k {
            for j in i..<k {
                var sum = 0.0
                for c in 0..<d { sum += centred[i][c] * centred[j][c] }
                gram[i * k + j] = sum
                gram[j * k + i] = sum
            }
        }
        var u = rng.standardNormals(k).map(Double.init)
        var norm = u.reduce(0) { $0 + $1 * $1 }.squareRoot()
        for _ in 0..<powerIterations {
            var next = [Double](repeating: 0, count: k)
            for i in 0..<k {
                var sum = 0.0
                for j in 0..<k { sum += gram[i * k + j] * u[j] }
                next[i] = sum
            }
            norm = next.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm == 0 { return 0 }
            u = next.map { $0 / norm }
        }
        var best = 0
        for i in 1..<k where abs(u[i]) > abs(u[best]) { best = i }
        return best
    }
}
