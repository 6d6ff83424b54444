import FedArenaCore
import FedArenaNumerics

/// The rows one rule merges: the round's ``UpdateMatrix`` restricted to its rows of positive
/// weight (rows of weight 0 are excluded by every rule), read in place.
///
/// Indices `0..<count` below are positions among the active rows, in ascending client order;
/// ``weights(_:)`` maps per-row values back to every client of the round, excluded ones at 0.
struct UpdateBatch {
    /// The round as the rule received it.
    let matrix: UpdateMatrix
    /// The active rows' positions in ``matrix``, ascending.
    let active: [Int]

    /// The number of active updates `n`.
    var count: Int { active.count }
    /// The dimension `d`.
    var dimension: Int { matrix.dimension }
    /// The active clients, ascending.
    var clients: [ClientID] { active.map { matrix.clients[$0] } }
    /// The active rows' sample counts.
    var sampleCounts: [Int] { active.map { matrix.sampleCounts[$0] } }
    /// The active rows' trust weights, in (0, 1].
    var trust: [Double] { active.map { matrix.weights[$0] } }

    /// Checks that some row is active and that the rows are not empty.
    ///
    /// Finiteness is checked by each rule where it is cheapest (most rules see a NaN or an
    /// infinity in a norm they compute anyway); see ``requireFinite(rule:)``.
    /// - Throws: `.tooFewUpdates` when no row has a positive weight, `.dimensionMismatch` for d = 0.
    init(_ matrix: UpdateMatrix, rule: String) throws(AggregationError) {
        let active = matrix.weights.indices.filter { matrix.weights[$0] > 0 }
        guard let first = active.first else {
            let excluded = matrix.count > 0 ? " (all \(matrix.count) have weight 0)" : ""
            throw AggregationError(.tooFewUpdates, "\(rule) needs at least 1 update, got 0\(excluded)")
        }
        if matrix.dimension == 0 {
            throw AggregationError(.dimensionMismatch, "\(rule): \(matrix.clients[first]) sent an empty update (d = 0)")
        }
        self.matrix = matrix
        self.active = active
    }

    /// Active row `index` as a vector (a copy).
    func vector(_ index: Int) -> ParameterVector { matrix.vector(active[index]) }

    /// The client of active row `index`.
    func client(_ index: Int) -> ClientID { matrix.clients[active[index]] }

    /// Calls `body` with pointers to the active rows (or to `subset` of them), in place.
    func withRows<R, E: Error>(_ subset: [Int]? = nil, _ body: (RowPointers) throws(E) -> R) throws(E) -> R {
        try matrix.withRows(subset.map { $0.map { active[$0] } } ?? active, body)
    }

    /// Throws `.nonFinite` naming the first client whose update holds NaN or infinity.
    func requireFinite(rule: String) throws(AggregationError) {
        for index in 0..<count where !matrix.rowIsFinite(active[index]) {
            throw nonFiniteError(rule: rule, suspect: index)
        }
    }

    /// Throws `.nonFinite` for the client at active `index` if its update is not finite,
    /// otherwise for the first non-finite one, otherwise for the whole batch ("the aggregate
    /// overflowed").
    func nonFiniteError(rule: String, suspect index: Int? = nil) -> AggregationError {
        if let index, !matrix.rowIsFinite(active[index]) { return nonFiniteRowError(rule: rule, row: active[index]) }
        for row in active where !matrix.rowIsFinite(row) { return nonFiniteRowError(rule: rule, row: row) }
        return AggregationError(.nonFinite, "\(rule): a norm or the aggregate overflowed float32 (updates are finite but too large)")
    }

    private func nonFiniteRowError(rule: String, row: Int) -> AggregationError {
        let where_ = matrix.firstNonFiniteCoordinate(row).map { " at coordinate \($0)" } ?? ""
        return AggregationError(.nonFinite, "\(rule): \(matrix.clients[row]) sent a non-finite value (NaN or infinity)\(where_)")
    }

    /// Weights keyed by client from values per active row; excluded clients get 0.
    func weights(_ values: [Double]) -> [ClientID: Double] {
        precondition(values.count == count, "weights: one value per active row")
        var result = Dictionary(uniqueKeysWithValues: matrix.clients.map { ($0, 0.0) })
        for (index, value) in zip(active, values) { result[matrix.clients[index]] = value }
        return result
    }

    /// Throws `.nonFinite` when `vector` is not finite, naming the culprit when there is one.
    func requireFiniteResult(_ vector: [Float], rule: String) throws(AggregationError) {
        if !Statistics.allFinite(vector) { throw nonFiniteError(rule: rule) }
    }

    /// Throws `.dimensionMismatch` or `.nonFinite` when a reference vector (FLTrust's root
    /// update, the previous aggregate) is unusable.
    func requireCompatible(_ vector: ParameterVector, named what: String, rule: String) throws(AggregationError) {
        if vector.count != dimension {
            throw AggregationError(.dimensionMismatch, "\(rule): the \(what) has \(vector.count) values, the updates \(dimension)")
        }
        if !vector.isFinite { throw AggregationError(.nonFinite, "\(rule): the \(what) holds NaN or infinity") }
    }

    /// The distances of the active rows (``PairwiseDistances``), or `.nonFinite` naming the
    /// client whose row holds NaN or infinity, or the overflow.
    func distances(
        rule: String, products: PairwiseDistances.Products = .distances, precision: PairwiseDistances.Precision = .single
    ) throws(AggregationError) -> PairwiseDistances {
        let distances = withRows { PairwiseDistances($0, products: products, precision: precision) }
        if let row = distances.nonFiniteRow { throw nonFiniteError(rule: rule, suspect: row) }
        if distances.overflows { throw nonFiniteError(rule: rule) }
        return distances
    }

    /// `values` normalised to sum 1, or `nil` when they sum to 0.
    static func normalised(_ values: [Double]) -> [Double]? {
        let total = values.reduce(0, +)
        guard total > 0 else { return nil }
        return values.map { $0 / total }
    }
}
