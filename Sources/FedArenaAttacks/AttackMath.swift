import FedArenaCore
import FedArenaNumerics

/// Shared, internal arithmetic of the update attacks: input checks, coordinate-wise mean and
/// standard deviation. Everything accumulates in `Double`; dot products, distances, random
/// draws and `Φ⁻¹` are Numerics' (``VectorMath``, ``PairwiseDistances``, the generator
/// extension, ``NormalDistribution``), shared with the defenders.
enum AttackMath {
    /// Checks that `vectors` is non-empty, of one dimension and finite.
    /// - Returns: the common dimension.
    /// - Throws: ``AttackError`` `.invalidInput` naming `attack`.
    static func dimension(of vectors: [ParameterVector], attack: String, what: String = "updates") throws(AttackError) -> Int {
        guard let first = vectors.first else {
            throw AttackError(.invalidInput, "\(attack) needs at least one \(what.dropLast()), got none")
        }
        let d = first.count
        if d == 0 { throw AttackError(.invalidInput, "\(attack): \(what) are empty (dimension 0)") }
        for (index, vector) in vectors.enumerated() {
            if vector.count != d {
                throw AttackError(.invalidInput, "\(attack): \(what) \(index) has dimension \(vector.count), expected \(d)")
            }
            if !vector.isFinite {
                throw AttackError(.invalidInput, "\(attack): \(what) \(index) holds a non-finite value")
            }
        }
        return d
    }

    /// Checks `context` and returns the updates the adversary knows: the malicious clients'
    /// own honest updates followed by the benign updates the knowledge level granted.
    static func knownUpdates(_ context: AttackContext, attack: String, atLeast minimum: Int) throws(AttackError) -> (updates: [ParameterVector], dimension: Int) {
        let d = try dimension(of: context.maliciousUpdates, attack: attack, what: "malicious updates")
        if !context.benignUpdates.isEmpty {
            let benignDimension = try dimension(of: context.benignUpdates, attack: attack, what: "benign updates")
            if benignDimension != d {
                throw AttackError(.invalidInput, "\(attack): benign updates have dimension \(benignDimension), malicious ones \(d)")
            }
        }
        let known = context.maliciousUpdates + context.benignUpdates
        if known.count < minimum {
            throw AttackError(
                .insufficientKnowledge,
                "\(attack) needs at least \(minimum) known updates to estimate their statistics, got \(known.count) "
                    + "(\(context.maliciousUpdates.count) malicious, \(context.benignUpdates.count) benign)")
        }
        return (known, d)
    }

    /// The coordinate-wise mean.
    static func mean(_ vectors: [ParameterVector], dimension d: Int) -> [Double] {
        var sum = [Double](repeating: 0, count: d)
        for vector in vectors {
            vector.values.withUnsafeBufferPointer { v in
                for j in 0..<d { sum[j] += Double(v[j]) }
            }
        }
        let scale = 1 / Double(vectors.count)
        for j in 0..<d { sum[j] *= scale }
        return sum
    }

    /// The coordinate-wise sample standard deviation (divisor `n − 1`, as `torch.std` in the
    /// reference implementations); 0 for a single vector.
    static func standardDeviation(_ vectors: [ParameterVector], mean: [Double]) -> [Double] {
        let d = mean.count
        var sum = [Double](repeating: 0, count: d)
        for vector in vectors {
            vector.values.withUnsafeBufferPointer { v in
                for j in 0..<d {
                    let deviation = Double(v[j]) - mean[j]
                    sum[j] += deviation * deviation
                }
            }
        }
        let divisor = Double(max(vectors.count - 1, 1))
        for j in 0..<d { sum[j] = (sum[j] / divisor).squareRoot() }
        return sum
    }

    /// The squared distances between every pair of `vectors` (`n × n`, row-major) from
    /// ``PairwiseDistances``, the defenders' routine (accurate under a common offset; nearly
    /// equal updates are recomputed exactly).
    /// - Precondition: the vectors are finite and of one dimension (``knownUpdates(_:attack:atLeast:)``).
    static func pairwiseSquaredDistances(_ vectors: [ParameterVector]) -> [Double] {
        guard let d = vectors.first?.count, d > 0 else { return [Double](repeating: 0, count: vectors.count * vectors.count) }
        return Statistics.withRows(vectors.map(\.values), columns: d) { PairwiseDistances($0).squaredDistanceMatrix }
    }

    /// `values` as a `Float` update.
    static func vector(_ values: [Double]) -> ParameterVector { ParameterVector(values.map { Float($0) }) }

    /// `n` copies of `vector`.
    static func copies(_ vector: ParameterVector, _ n: Int) -> [ParameterVector] { Array(repeating: vector, count: n) }
}
