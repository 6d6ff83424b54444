import FedArenaCore
import FedArenaNumerics

/// Updates from rows: client `i` sends `rows[i]` with `counts[i]` samples (10 by default) and
/// trust weight `weights[i]` (1 by default).
func makeUpdates(_ rows: [[Float]], counts: [Int]? = nil, weights: [Double]? = nil) -> [ClientUpdate] {
    rows.enumerated().map { index, row in
        ClientUpdate(
            client: ClientID(index), round: 1, sampleCount: counts?[index] ?? 10, delta: ParameterVector(row), weight: weights?[index] ?? 1)
    }
}

/// A round-1 context of dimension `d`.
func makeContext(dimension: Int, reference: [Float]? = nil, previous: [Float]? = nil, memory: AggregatorMemory = AggregatorMemory()) -> RoundContext {
    RoundContext(
        round: 1, globalModel: ParameterVector(zeros: dimension), previousAggregate: previous.map(ParameterVector.init),
        referenceUpdate: reference.map(ParameterVector.init), expectedUpdates: 0, memory: memory)
}

/// Runs `rule` on `rows` with a fixed generator.
func aggregate(
    _ rule: some Aggregator, _ rows: [[Float]], counts: [Int]? = nil, weights: [Double]? = nil, context: RoundContext? = nil, seed: UInt64 = 1
) throws(AggregationError) -> AggregationResult {
    var rng = SeededGenerator(seed: seed)
    let updates = makeUpdates(rows, counts: counts, weights: weights)
    return try rule.aggregate(updates, context: context ?? makeContext(dimension: rows.first?.count ?? 0), using: &rng)
}

/// Whether `a` and `b` agree within `tolerance` at every coordinate.
func close(_ a: [Float], _ b: [Float], _ tolerance: Float = 1e-5) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }
}

/// The weight of client `index`.
func weight(_ result: AggregationResult, _ index: Int) -> Double { result.weights[ClientID(index)] ?? .nan }

/// Plain float64 references for the distance rules, written independently of the code under
/// test: `Σ (Double(a_k) − Double(b_k))²`, Krum scores by sorting, ties to the lower index.
enum Float64Reference {
    static func distances(_ rows: [[Float]]) -> [[Double]] {
        let n = rows.count
        var result = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n {
            for j in (i + 1)..<max(i + 1, n) {
                let value = rows[i].withUnsafeBufferPointer { a in
                    rows[j].withUnsafeBufferPointer { b in
                        var sum = 0.0
                        for k in 0..<a.count {
                            let t = Double(a[k]) - Double(b[k])
                            sum += t * t
                        }
                        return sum
                    }
                }
                result[i][j] = value
                result[j][i] = value
            }
        }
        return result
    }

    static func krumScores(_ d: [[Double]], f: Int, among active: [Int]) -> [Int: Double] {
        let k = active.count - f - 2
        var scores = [Int: Double]()
        for i in active { scores[i] = active.filter { $0 != i }.map { d[i][$0] }.sorted().prefix(max(k, 0)).reduce(0, +) }
        return scores
    }

    /// The `m` lowest Krum scores, lowest first.
    static func krum(_ d: [[Double]], f: Int, m: Int = 1) -> [Int] {
        let scores = krumScores(d, f: f, among: Array(d.indices))
        return Array(d.indices.sorted { (scores[$0]!, $0) < (scores[$1]!, $1) }.prefix(m))
    }

    /// Bulyan's selection: Krum on the remaining rows, `count` times.
    static func repeatedKrum(_ d: [[Double]], f: Int, count: Int) -> [Int] {
        var remaining = Array(d.indices)
        var selection = [Int]()
        while selection.count < count {
            let scores = krumScores(d, f: f, among: remaining)
            let winner = remaining.min { (scores[$0]!, $0) < (scores[$1]!, $1) }!
            selection.append(winner)
            remaining.removeAll { $0 == winner }
        }
        return selection
    }

    /// NNM's neighbourhood of `i`: itself and its `keep − 1` nearest others.
    static func nearest(_ d: [[Double]], to i: Int, keep: Int) -> [Int] {
        [i] + d.indices.filter { $0 != i }.sorted { (d[i][$0], $0) < (d[i][$1], $1) }.prefix(keep - 1)
    }
}

/// The near-duplicate round: 30 updates of d = 79,510 (the MLP's parameter count),
/// each `c + N(0, 0.01²)` per coordinate with a common offset `c`, 6 of them (clients 2, 7, 11,
/// 16, 21 and 27) a tighter cluster `c + N(0, 0.007²)`; built once per offset, with its float64
/// distances.
struct NearDuplicateRound: Sendable {
    static let clusterClients = [2, 7, 11, 16, 21, 27]
    let rows: [[Float]]
    let distances: [[Double]]

    init(offset: Float) {
        var rng = SeededGenerator(seed: 2_024, stream: [UInt64(offset * 10)])
        rows = (0..<30).map { i in
            let sigma = Self.clusterClients.contains(i) ? 0.007 : 0.01
            return (0..<79_510).map { _ in offset + Float(sigma * rng.normal()) }
        }
        distances = Float64Reference.distances(rows)
    }

    static let offsets: [Float] = [0.5, 5, 50]
    static let rounds: [Float: NearDuplicateRound] = Dictionary(uniqueKeysWithValues: offsets.map { ($0, NearDuplicateRound(offset: $0)) })

    var updates: [ClientUpdate] { makeUpdates(rows) }
}
