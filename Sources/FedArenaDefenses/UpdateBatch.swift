import FedArenaCore
import FedArenaNumerics

/// The updates of one round, checked and put in a canonical order (ascending ``ClientID``),
/// so that every rule's arithmetic, and therefore its bits, do not depend on arrival order.
struct UpdateBatch {
    /// The updates, sorted by client.
    let updates: [ClientUpdate]
    /// The dimension `d`.
    let dimension: Int

    /// The number of updates `n`.
    var count: Int { updates.count }
    /// The clients in canonical order.
    var clients: [ClientID] { updates.map(\.client) }

    /// Checks that `updates` is non-empty and that all updates share one positive dimension.
    ///
    /// Finiteness is checked by each rule where it is cheapest (most rules see a NaN or an
    /// infinity in a norm they compute anyway); see ``requireFinite(rule:)``.
    /// - Throws: `.tooFewUpdates` when empty, `.dimensionMismatch` otherwise.
    init(_ updates: [ClientUpdate], rule: String) throws(AggregationError) {
        guard let first = updates.first else {
            throw AggregationError(.tooFewUpdates, "\(rule) needs at least 1 update, got 0")
        }
        let dimension = first.delta.count
        if dimension == 0 {
            throw AggregationError(.dimensionMismatch, "\(rule): \(first.client) sent an empty update (d = 0)")
        }
        for update in updates where update.delta.count != dimension {
            throw AggregationError(
                .dimensionMismatch,
                "\(rule): \(update.client) sent \(update.delta.count) values, \(first.client) sent \(dimension)")
        }
        // Ties (a client sending twice, which the runtime rejects earlier) are broken by
        // content so that the order never depends on arrival.
        self.updates = updates.sorted { a, b in
            if a.client != b.client { return a.client < b.client }
            if a.sampleCount != b.sampleCount { return a.sampleCount < b.sampleCount }
            return a.delta.values.lexicographicallyPrecedes(b.delta.values)
        }
        self.dimension = dimension
    }

    /// The rows (deltas) in canonical order.
    var rows: [[Float]] { updates.map(\.delta.values) }

    /// Calls `body` with pointers to the rows.
    func withRows<R, E: Error>(_ body: (RowPointers) throws(E) -> R) throws(E) -> R {
        try Statistics.withRows(rows, columns: dimension, body)
    }

    /// Throws `.nonFinite` naming the first client whose update holds NaN or infinity.
    func requireFinite(rule: String) throws(AggregationError) {
        for update in updates {
            let finite = update.delta.values.withUnsafeBufferPointer { Statistics.allFinite($0) }
            if !finite { throw nonFiniteError(rule: rule, client: update.client) }
        }
    }

    /// Throws `.nonFinite` for the client at canonical `index` if its update is not finite,
    /// otherwise for the whole batch ("the aggregate overflowed").
    func nonFiniteError(rule: String, suspect index: Int? = nil) -> AggregationError {
        if let index, !updates[index].delta.isFinite { return nonFiniteError(rule: rule, client: updates[index].client) }
        for update in updates where !update.delta.isFinite {
            return nonFiniteError(rule: rule, client: update.client)
        }
        return AggregationError(.nonFinite, "\(rule): a norm or the aggregate overflowed float32 (updates are finite but too large)")
    }

    private func nonFiniteError(rule: String, client: ClientID) -> AggregationError {
        let index = update(of: client)?.delta.values.firstIndex { !$0.isFinite }
        let where_ = index.map { " at coordinate \($0)" } ?? ""
        return AggregationError(.nonFinite, "\(rule): \(client) sent a non-finite value (NaN or infinity)\(where_)")
    }

    private func update(of client: ClientID) -> ClientUpdate? { updates.first { $0.client == client } }

    /// Weights keyed by client from weights in canonical order (duplicated clients add up).
    func weights(_ values: [Double]) -> [ClientID: Double] {
        var result = [ClientID: Double]()
        for (update, value) in zip(updates, values) { result[update.client, default: 0] += value }
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
}
