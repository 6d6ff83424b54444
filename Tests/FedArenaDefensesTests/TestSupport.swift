import FedArenaCore
import FedArenaNumerics

/// Updates from rows: client `i` sends `rows[i]` with `counts[i]` samples (10 by default).
func makeUpdates(_ rows: [[Float]], counts: [Int]? = nil) -> [ClientUpdate] {
    rows.enumerated().map { index, row in
        ClientUpdate(client: ClientID(index), round: 1, sampleCount: counts?[index] ?? 10, delta: ParameterVector(row))
    }
}

/// A round-1 context of dimension `d`.
func makeContext(dimension: Int, reference: [Float]? = nil, previous: [Float]? = nil, memory: AggregatorMemory = AggregatorMemory()) -> RoundContext {
    RoundContext(
        round: 1, globalModel: ParameterVector(zeros: dimension), previousAggregate: previous.map(ParameterVector.init),
        referenceUpdate: reference.map(ParameterVector.init), expectedUpdates: 0, memory: memory)
}

/// Runs `rule` on `rows` with a fixed generator.
func aggregate(_ rule: some Aggregator, _ rows: [[Float]], counts: [Int]? = nil, context: RoundContext? = nil, seed: UInt64 = 1) throws(AggregationError) -> AggregationResult {
    var rng = SeededGenerator(seed: seed)
    let updates = makeUpdates(rows, counts: counts)
    return try rule.aggregate(updates, context: context ?? makeContext(dimension: rows.first?.count ?? 0), using: &rng)
}

/// Whether `a` and `b` agree within `tolerance` at every coordinate.
func close(_ a: [Float], _ b: [Float], _ tolerance: Float = 1e-5) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }
}

/// The weight of client `index`.
func weight(_ result: AggregationResult, _ index: Int) -> Double { result.weights[ClientID(index)] ?? .nan }
