import FedArenaCore
import FedArenaNumerics

/// Fang et al.'s attack on Krum: every malicious client sends `−λ·s`, where `s` is the sign of
/// the benign direction of change, with `λ` as large as Krum still accepts.
///
/// Fang, Cao, Jia and Gong 2020, "Local Model Poisoning Attacks to Byzantine-Robust Federated
/// Learning", USENIX Security (full knowledge, §3.2 "Attacking Krum"). In update space (`Δ` =
/// local model − global model): `s = sign(mean of the honest updates)`; `λ` starts at the
/// paper's upper bound
/// `λ = 1/((n − 2c − 1)√d) · min_i Σ_{l ∈ Γ(i, n−c−2)} ‖Δ_l − Δ_i‖ + 1/√d · max_i ‖Δ_i‖`
/// over benign `i` (`Γ` its `n − c − 2` nearest benign updates, `c` the malicious ones, the
/// first term dropped when `n − 2c − 1 ≤ 0`) and is halved until Krum picks one of the `c`
/// crafted copies among them and the benign updates, or `λ` falls below ``threshold``; then
/// the last `λ` tried is sent anyway. Krum here is the defender's: ``KrumScoring`` on
/// ``PairwiseDistances`` (the benign distances) and the closed form
/// `‖Δ_i + λs‖² = ‖Δ_i‖² + 2λ s·Δ_i + λ²‖s‖²` to the crafted copies.
///
/// YAML: `{kind: fang-krum, f: 10}` (`f` optional: the rule's `f` from
/// ``AttackContext/assumedByzantine``, else `c`; `threshold` default 1e-5). Knowledge
/// `.omniscient`: needs the benign updates. Also aimed at multi-krum and bulyan, which select
/// with Krum.
public struct FangKrum: UpdateAttack {
    /// The `f` Krum is assumed to use, or `nil` for the context's.
    public var f: Int?
    /// The smallest `λ` tried.
    public var threshold: Double

    /// The result of the `λ` search.
    public struct Outcome: Sendable, Equatable {
        /// The crafted update `−λ·s`.
        public var update: ParameterVector
        /// The `λ` used.
        public var lambda: Double
        /// Whether the local Krum selects a crafted copy with this `λ`.
        public var selected: Bool
    }

    /// Creates the attack.
    /// - Parameters:
    ///   - f: Krum's assumed `f` (`>= 0`), or `nil`.
    ///   - threshold: the smallest `λ` tried, > 0.
    /// - Throws: ``AttackError`` `.invalidConfiguration` for `f < 0` or a non-positive threshold.
    public init(f: Int? = nil, threshold: Double = 1e-5) throws(AttackError) {
        if let f, f < 0 { throw AttackError(.invalidConfiguration, "fang-krum needs f >= 0, got f = \(f)") }
        guard threshold.isFinite, threshold > 0 else {
            throw AttackError(.invalidConfiguration, "fang-krum needs a threshold > 0, got \(threshold)")
        }
        self.f = f
        self.threshold = threshold
    }

    /// `fang-krum`.
    public var name: String { "fang-krum" }
    /// `.untargeted`.
    public var objective: AttackObjective { .untargeted }
    /// `.omniscient`.
    public var requiredKnowledge: AttackKnowledge { .omniscient }

    /// Sends the crafted update of ``search(_:)`` from every malicious client.
    public func craft(_ context: AttackContext, using rng: inout some RandomNumberGenerator) throws(AttackError) -> [ParameterVector] {
        AttackMath.copies(try search(context).update, context.maliciousUpdates.count)
    }

    /// Runs the `λ` search.
    /// - Throws: ``AttackError`` `.insufficientKnowledge` without benign updates, `.invalidInput`
    ///   for mismatched or non-finite updates.
    public func search(_ context: AttackContext) throws(AttackError) -> Outcome {
        let benign = context.benignUpdates
        guard !benign.isEmpty else {
            throw AttackError(.insufficientKnowledge, "fang-krum needs the benign updates (knowledge: omniscient), got none")
        }
        let (honest, d) = try AttackMath.knownUpdates(context, attack: name, atLeast: 1)
        let c = context.maliciousUpdates.count
        let b = benign.count
        let n = b + c
        let assumedF = f ?? context.assumedByzantine ?? c
        let s = AttackMath.mean(honest, dimension: d).map { $0 > 0 ? 1.0 : ($0 < 0 ? -1.0 : 0.0) }
        let sNorm = VectorMath.sumOfSquares(of: s)
        let benignDistances = AttackMath.pairwiseSquaredDistances(benign)
        let benignNorms = benign.map { VectorMath.sumOfSquares(of: $0.values.map(Double.init)) }
        let sDot = benign.map { VectorMath.dot(s, with: $0.values) }

        // The paper's upper bound on λ.
        let rootD = Double(d).squareRoot()
        var lambda = (benignNorms.max() ?? 0).squareRoot() / rootD
        let neighbours = min(n - c - 2, b - 1)
        if n - 2 * c - 1 > 0, neighbours > 0 {
            var best = Double.infinity
            for i in 0..<b {
                var row = [Double]()
                for j in 0..<b where j != i { row.append(benignDistances[i * b + j].squareRoot()) }
                row.sort()
                var sum = 0.0
                for position in 0..<neighbours { sum += row[position] }
                best = min(best, sum)
            }
            lambda += best / (Double(n - 2 * c - 1) * rootD)
        }
        guard lambda > 0, sNorm > 0 else {
            return Outcome(update: ParameterVector(zeros: d), lambda: 0, selected: false)
        }
        var tried = lambda
        while lambda >= threshold {
            tried = lambda
            // Benign updates first, crafted copies after: ties go to the benign ones.
            var distances = [Double](repeating: 0, count: n * n)
            for i in 0..<b {
                for j in 0..<b { distances[i * n + j] = benignDistances[i * b + j] }
                let toCrafted = max(0, lambda * lambda * sNorm + 2 * lambda * sDot[i] + benignNorms[i])
                for j in b..<n {
                    distances[i * n + j] = toCrafted
                    distances[j * n + i] = toCrafted
                }
            }
            let scores = KrumScoring.scores(squaredDistances: distances, count: n, neighbours: n - assumedF - 2)
            if KrumScoring.lowest(scores, count: 1)[0] >= b {
                return Outcome(update: AttackMath.vector(s.map { -lambda * $0 }), lambda: lambda, selected: true)
            }
            lambda /= 2
        }
        return Outcome(update: AttackMath.vector(s.map { -tried * $0 }), lambda: tried, selected: false)
    }

    /// Krum scores (Blanchard et al. 2017) of `updates`: the sum of the squared distances from
    /// each to its `n − f − 2` nearest others (all zero when `n − f − 2 ≤ 0`), by
    /// ``KrumScoring`` on ``PairwiseDistances``, as the defender computes them.
    /// - Precondition: the updates are finite and of one positive dimension.
    public static func krumScores(_ updates: [ParameterVector], f: Int) -> [Double] {
        let n = updates.count
        return KrumScoring.scores(squaredDistances: AttackMath.pairwiseSquaredDistances(updates), count: n, neighbours: n - f - 2).map(\.value)
    }

    /// The index the defender's Krum selects (``KrumScoring/selectLowest(_:rows:neighbours:count:)``:
    /// the float64-exact lowest score, ties to the lower index).
    /// - Precondition: the updates are finite and of one positive dimension.
    public static func krumSelection(_ updates: [ParameterVector], f: Int) -> Int {
        guard let d = updates.first?.count, d > 0 else { return 0 }
        return Statistics.withRows(updates.map(\.values), columns: d) { rows in
            var distances = PairwiseDistances(rows)
            return KrumScoring.selectLowest(&distances, rows: rows, neighbours: updates.count - f - 2, count: 1)[0]
        }
    }
}
