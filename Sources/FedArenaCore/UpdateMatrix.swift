/// The updates of one round as one contiguous `n × d` row-major block of float32, one row per
/// client in ascending ``ClientID`` order, with each row's sample count and trust weight.
///
/// Aggregation rules, pre-aggregation stages and distance kernels read the block in place: the
/// runtime builds it once per round (``append(client:sampleCount:weight:row:)`` as updates
/// arrive in client order, or ``init(_:for:)`` from ``ClientUpdate`` values, which is the one
/// copy), and nothing copies per-client arrays into a block per rule. The canonical order makes
/// every rule's arithmetic, and therefore its bits, independent of arrival order.
///
/// Weights: ``weights`` holds the trust weight of each row in [0, 1] (``ClientUpdate/weight``);
/// 0 excludes the row from every rule, and ``activeCount`` (rows of positive weight) is the
/// `n` a rule's bound is checked against.
public struct UpdateMatrix: Sendable, Equatable {
    /// The values, row `i` at `values[i * dimension ..< (i + 1) * dimension]`.
    public private(set) var values: [Float]
    /// The row length `d`.
    public let dimension: Int
    /// The client of each row, strictly ascending.
    public private(set) var clients: [ClientID]
    /// The local sample count of each row (the FedAvg weight).
    public private(set) var sampleCounts: [Int]
    /// The trust weight of each row, in [0, 1].
    public private(set) var weights: [Double]
    /// The round the rows answer.
    public var round: Int

    /// The number of rows `n`.
    public var count: Int { clients.count }
    /// The number of rows with a positive weight.
    public var activeCount: Int { weights.lazy.filter { $0 > 0 }.count }
    /// Whether some row has weight 0.
    public var hasExcludedRows: Bool { weights.contains(0) }

    /// An empty round of `dimension`-long rows.
    /// - Parameters:
    ///   - dimension: `d`.
    ///   - round: the round.
    ///   - capacity: the rows to reserve room for.
    public init(dimension: Int, round: Int = 0, reservingCapacity capacity: Int = 0) {
        self.dimension = dimension
        self.round = round
        values = []
        values.reserveCapacity(capacity * dimension)
        clients = []
        sampleCounts = []
        weights = []
    }

    /// Packs `updates` into one block, sorted by client (the one copy of the round).
    /// - Parameters:
    ///   - updates: the round's updates, in any order.
    ///   - rule: the name put in front of error messages, if any.
    /// - Throws: `.dimensionMismatch` when the updates differ in length, `.invalidInput` for a
    ///   client listed twice or a weight outside [0, 1].
    public init(_ updates: [ClientUpdate], for rule: String? = nil) throws(AggregationError) {
        let prefix = rule.map { "\($0): " } ?? ""
        let sorted = updates.sorted { $0.client < $1.client }
        let dimension = sorted.first?.delta.count ?? 0
        self.init(dimension: dimension, round: sorted.first?.round ?? 0, reservingCapacity: sorted.count)
        for update in sorted {
            if update.delta.count != dimension {
                throw AggregationError(
                    .dimensionMismatch, "\(prefix)\(update.client) sent \(update.delta.count) values, \(sorted[0].client) sent \(dimension)")
            }
            do throws(AggregationError) {
                try append(client: update.client, sampleCount: update.sampleCount, weight: update.weight, row: update.delta.values)
            } catch {
                throw AggregationError(error.code, prefix + error.message)
            }
        }
    }

    /// Wraps an existing block without copying it.
    /// - Parameters:
    ///   - values: `clients.count × dimension` values, row-major.
    ///   - dimension: `d`.
    ///   - clients: the client of each row, strictly ascending.
    ///   - sampleCounts: one count per row (default 1 each).
    ///   - weights: one weight in [0, 1] per row (default 1 each).
    ///   - round: the round.
    /// - Throws: `.dimensionMismatch` when the sizes disagree, `.invalidInput` for clients out
    ///   of order or a weight outside [0, 1].
    public init(
        values: [Float], dimension: Int, clients: [ClientID], sampleCounts: [Int]? = nil, weights: [Double]? = nil, round: Int = 0
    ) throws(AggregationError) {
        let n = clients.count
        guard values.count == n * dimension, sampleCounts?.count ?? n == n, weights?.count ?? n == n else {
            throw AggregationError(
                .dimensionMismatch,
                "a block of \(values.count) values for \(n) clients of dimension \(dimension) (\(sampleCounts?.count ?? n) sample counts, \(weights?.count ?? n) weights)")
        }
        for index in clients.indices.dropFirst() where !(clients[index - 1] < clients[index]) {
            throw AggregationError(.invalidInput, "clients must be strictly ascending: \(clients[index - 1]) before \(clients[index])")
        }
        let weights = weights ?? [Double](repeating: 1, count: n)
        if let bad = weights.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) {
            throw AggregationError(.invalidInput, "\(clients[bad]) has weight \(weights[bad]); weights must be in [0, 1]")
        }
        self.values = values
        self.dimension = dimension
        self.clients = clients
        self.sampleCounts = sampleCounts ?? [Int](repeating: 1, count: n)
        self.weights = weights
        self.round = round
    }

    /// Appends a row for a client above every client already present.
    /// - Parameters:
    ///   - client: the client, greater than ``clients``' last.
    ///   - sampleCount: its sample count.
    ///   - weight: its trust weight in [0, 1].
    ///   - row: `dimension` values.
    /// - Throws: `.dimensionMismatch` for a row of another length, `.invalidInput` for a client
    ///   out of order or a weight outside [0, 1].
    public mutating func append(client: ClientID, sampleCount: Int, weight: Double = 1, row: some Collection<Float>) throws(AggregationError) {
        guard row.count == dimension else {
            throw AggregationError(.dimensionMismatch, "\(client) sent \(row.count) values, expected \(dimension)")
        }
        try appendMetadata(client: client, sampleCount: sampleCount, weight: weight)
        values.append(contentsOf: row)
    }

    /// Appends a row written in place by `fill` (a decoder writes straight into the block).
    /// - Parameters:
    ///   - client: the client, greater than ``clients``' last.
    ///   - sampleCount: its sample count.
    ///   - weight: its trust weight in [0, 1].
    ///   - fill: writes the `dimension` values (zero-initialised); a failure it throws removes
    ///     the row again.
    /// - Throws: `.invalidInput` for a client out of order or a weight outside [0, 1], or what
    ///   `fill` throws.
    public mutating func appendRow(
        client: ClientID, sampleCount: Int, weight: Double = 1,
        fill: (UnsafeMutableBufferPointer<Float>) throws(AggregationError) -> Void
    ) throws(AggregationError) {
        try appendMetadata(client: client, sampleCount: sampleCount, weight: weight)
        let start = values.count
        let width = dimension
        values.append(contentsOf: repeatElement(0, count: width))
        let outcome: Result<Void, AggregationError> = values.withUnsafeMutableBufferPointer { all in
            do throws(AggregationError) {
                try fill(UnsafeMutableBufferPointer(rebasing: all[start..<(start + width)]))
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        if case .failure(let error) = outcome {
            removeLast()
            throw error
        }
    }

    private mutating func appendMetadata(client: ClientID, sampleCount: Int, weight: Double) throws(AggregationError) {
        if let last = clients.last, !(last < client) {
            throw AggregationError(
                .invalidInput, last == client ? "\(client) sent two updates" : "rows must be added in client order: \(client) after \(last)")
        }
        guard weight >= 0, weight <= 1 else {
            throw AggregationError(.invalidInput, "\(client) has weight \(weight); weights must be in [0, 1]")
        }
        clients.append(client)
        sampleCounts.append(sampleCount)
        weights.append(weight)
    }

    private mutating func removeLast() {
        values.removeLast(dimension)
        clients.removeLast()
        sampleCounts.removeLast()
        weights.removeLast()
    }

    /// Sets the trust weight of `client`'s row.
    /// - Throws: `.invalidInput` when the client has no row or the weight is outside [0, 1].
    public mutating func setWeight(_ weight: Double, for client: ClientID) throws(AggregationError) {
        guard let index = index(of: client) else { throw AggregationError(.invalidInput, "\(client) has no update this round") }
        guard weight >= 0, weight <= 1 else {
            throw AggregationError(.invalidInput, "\(client) has weight \(weight); weights must be in [0, 1]")
        }
        weights[index] = weight
    }

    /// The row of `client`, or `nil` (binary search).
    public func index(of client: ClientID) -> Int? {
        var low = 0
        var high = clients.count
        while low < high {
            let middle = (low + high) / 2
            if clients[middle] < client { low = middle + 1 } else { high = middle }
        }
        return low < clients.count && clients[low] == client ? low : nil
    }

    /// Row `index`, without copying.
    public func row(_ index: Int) -> ArraySlice<Float> { values[(index * dimension)..<((index + 1) * dimension)] }

    /// Row `index` as a ``ParameterVector`` (a copy).
    public func vector(_ index: Int) -> ParameterVector { ParameterVector(Array(row(index))) }

    /// Whether row `index` holds only finite values.
    public func rowIsFinite(_ index: Int) -> Bool { !row(index).contains { !$0.isFinite } }

    /// The first non-finite coordinate of row `index`, or `nil`.
    public func firstNonFiniteCoordinate(_ index: Int) -> Int? {
        row(index).firstIndex { !$0.isFinite }.map { $0 - index * dimension }
    }

    /// Row `index` as a ``ClientUpdate`` (a copy; no sketch, loss NaN).
    public func update(_ index: Int) -> ClientUpdate {
        ClientUpdate(
            client: clients[index], round: round, sampleCount: sampleCounts[index], delta: vector(index), weight: weights[index])
    }

    /// Every row as a ``ClientUpdate`` (copies).
    public var updates: [ClientUpdate] { clients.indices.map(update) }

    /// The rows at `indices` (ascending), as a new block (a copy of those rows).
    /// - Precondition: `indices` is strictly ascending and inside `0..<count`.
    public func selecting(_ indices: [Int]) -> UpdateMatrix {
        precondition(zip(indices, indices.dropFirst()).allSatisfy { $0 < $1 }, "selecting: rows must be strictly ascending")
        var result = UpdateMatrix(dimension: dimension, round: round, reservingCapacity: indices.count)
        for index in indices {
            result.clients.append(clients[index])
            result.sampleCounts.append(sampleCounts[index])
            result.weights.append(weights[index])
            result.values.append(contentsOf: row(index))
        }
        return result
    }

    /// Calls `body` with the whole block.
    public func withValues<R, E: Error>(_ body: (UnsafeBufferPointer<Float>) throws(E) -> R) throws(E) -> R {
        let result: Result<R, E> = values.withUnsafeBufferPointer { buffer in
            do throws(E) { return .success(try body(buffer)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}
