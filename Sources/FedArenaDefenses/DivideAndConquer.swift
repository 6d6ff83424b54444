import FedArenaCore
import FedArenaNumerics

/// Divide-and-Conquer (DnC): on a random subset of coordinates, score each centred update by
/// its squared projection on the top singular vector, drop the `⌊c·f⌋` highest scores, repeat
/// with fresh coordinates, and average the updates that survived every repetition.
///
/// Shejwalkar and Houmansadr 2021, "Manipulating the Byzantine: Optimizing Model Poisoning
/// Attacks and Defenses for Federated Learning", NDSS (Algorithm 2). The top right singular
/// vector of the centred `n × b` matrix comes from power iteration on `AᵀA` (BLAS `sgemv`),
/// started from a seeded normal vector, to a change below `1e-6` or 200 steps.
///
/// YAML: `{kind: dnc, f: 10, c: 1.0, iterations: 1, subsample: 10000}`. Needs `n > ⌊c·f⌋`
/// (exact for the decimal `c` written, ``FractionalCount``). The sampled columns are centred
/// before the power iteration, so the scores do not depend on a common offset of the updates.
/// Weights: `1/|good|` for surviving clients, 0 for the rest.
///
/// Trust weights: 0 excludes the update; the filtering ignores weights in (0, 1), and the mean
/// of the survivors is weighted by them (`Σ w_i Δ_i / Σ w_i` over the good set).
public struct DivideAndConquer: Aggregator {
    /// The assumed number of Byzantine updates.
    public var f: Int
    /// The filtering fraction `c > 0`: `⌊c·f⌋` updates are removed per repetition.
    public var filterFraction: Double
    /// The number of repetitions (`niters`), `>= 1`.
    public var iterations: Int
    /// The number of coordinates sampled per repetition (`b`), `>= 1` (all when `>= d`).
    public var subsample: Int

    /// Creates the rule.
    /// - Parameters:
    ///   - f: the assumed number of Byzantine updates, `>= 0`.
    ///   - filterFraction: `c > 0`, default 1.
    ///   - iterations: repetitions, `>= 1`, default 1.
    ///   - subsample: coordinates per repetition, `>= 1`, default 10,000.
    /// - Throws: `.invalidConfiguration` for values out of range.
    public init(f: Int, filterFraction: Double = 1, iterations: Int = 1, subsample: Int = 10_000) throws(AggregationError) {
        guard f >= 0 else { throw AggregationError(.invalidConfiguration, "dnc needs f >= 0, got f = \(f)") }
        guard filterFraction.isFinite, filterFraction > 0 else { throw AggregationError(.invalidConfiguration, "dnc needs c > 0, got c = \(filterFraction)") }
        guard iterations >= 1 else { throw AggregationError(.invalidConfiguration, "dnc needs iterations >= 1, got \(iterations)") }
        guard subsample >= 1 else { throw AggregationError(.invalidConfiguration, "dnc needs subsample >= 1, got \(subsample)") }
        self.f = f
        self.filterFraction = filterFraction
        self.iterations = iterations
        self.subsample = subsample
    }

    /// `dnc`.
    public var name: String { "dnc" }

    /// The number of updates removed per repetition: `⌊c·f⌋`.
    public var removedPerIteration: Int { FractionalCount.floor(filterFraction, of: f) }

    /// Needs `n > ⌊c·f⌋`.
    public func validate(inputCount: Int) throws(AggregationError) {
        if inputCount <= removedPerIteration {
            throw AggregationError(
                .tooFewUpdates,
                "dnc needs n > ⌊c·f⌋, got n = \(inputCount), f = \(f), c = \(filterFraction) (⌊c·f⌋ = \(removedPerIteration))")
        }
    }

    /// Filters and averages.
    /// - Throws: `.tooFewUpdates`, `.dimensionMismatch`, `.nonFinite`.
    public func aggregate(
        _ updates: UpdateMatrix, context: RoundContext, using rng: inout some RandomNumberGenerator
    ) throws(AggregationError) -> AggregationResult {
        try validate(inputCount: updates.activeCount)
        let batch = try UpdateBatch(updates, rule: name)
        try batch.requireFinite(rule: name)
        let n = batch.count
        let d = batch.dimension
        let b = min(subsample, d)
        var good = Set(0..<n)
        var lastKept = Array(0..<n)
        for _ in 0..<iterations {
            let columns = rng.sampledIndices(b, from: d)
            var matrix = [Float](repeating: 0, count: n * b)
            batch.withRows { rows in
                for i in 0..<n {
                    let row = rows[i]
                    for (place, column) in columns.enumerated() { matrix[i * b + place] = row[column] }
                }
            }
            // Centre each column.
            var mean = [Double](repeating: 0, count: b)
            for i in 0..<n { for j in 0..<b { mean[j] += Double(matrix[i * b + j]) } }
            for i in 0..<n { for j in 0..<b { matrix[i * b + j] -= Float(mean[j] / Double(n)) } }
            let start = rng.standardNormals(b)
            let direction = Self.topRightSingularVector(matrix, rows: n, columns: b, start: start)
            var projection = [Float](repeating: 0, count: n)
            matrix.withUnsafeBufferPointer { a in
                direction.withUnsafeBufferPointer { v in
                    projection.withUnsafeMutableBufferPointer { p in
                        BLAS.sgemv(rows: n, columns: b, a: a.baseAddress!, x: v.baseAddress!, y: p.baseAddress!)
                    }
                }
            }
            let scores = projection.map { Double($0) * Double($0) }
            let kept = scores.indices.sorted { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }.prefix(n - removedPerIteration)
            lastKept = Array(kept)
            good.formIntersection(kept)
        }
        var note: String?
        if good.isEmpty {
            good = Set(lastKept)
            note = "no update survived every repetition; used the last repetition's survivors"
        }
        let trust = batch.trust
        let goodTrust = good.sorted().reduce(0) { $0 + trust[$1] }
        var weights = [Double](repeating: 0, count: n)
        for i in good { weights[i] = trust[i] / goodTrust }
        let mean = batch.withRows { Statistics.linearCombination($0, coefficients: weights.map { Float($0) }) }
        try batch.requireFiniteResult(mean, rule: name)
        return AggregationResult(aggregate: ParameterVector(mean), weights: batch.weights(weights), note: note)
    }

    /// The unit top right singular vector of the row-major `rows × columns` matrix, by power
    /// iteration on `AᵀA` from `start`.
    static func topRightSingularVector(_ a: [Float], rows: Int, columns: Int, start: [Float]) -> [Float] {
        var v = start
        normalise(&v)
        var av = [Float](repeating: 0, count: rows)
        var next = [Float](repeating: 0, count: columns)
        for _ in 0..<200 {
            a.withUnsafeBufferPointer { ap in
                v.withUnsafeBufferPointer { vp in
                    av.withUnsafeMutableBufferPointer { avp in
                        BLAS.sgemv(rows: rows, columns: columns, a: ap.baseAddress!, x: vp.baseAddress!, y: avp.baseAddress!)
                    }
                }
                av.withUnsafeBufferPointer { avp in
                    next.withUnsafeMutableBufferPointer { np in
                        BLAS.sgemv(transpose: true, rows: rows, columns: columns, a: ap.baseAddress!, x: avp.baseAddress!, y: np.baseAddress!)
                    }
                }
            }
            guard normalise(&next) else { return v }  // A v = 0: v is as good as any
            var change: Float = 0
            for j in 0..<columns { change = max(change, abs(next[j] - v[j])) }
            swap(&v, &next)
            if change < 1e-6 { break }
        }
        return v
    }

    @discardableResult
    private static func normalise(_ v: inout [Float]) -> Bool {
        let norm = Float(Statistics.squaredNorm(v).squareRoot())
        guard norm > 0, norm.isFinite else { return false }
        for j in v.indices { v[j] /= norm }
        return true
    }
}
