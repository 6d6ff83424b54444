import FedArenaCore

/// One round's updates as one `n × d` block: the deltas as an ``UpdateMatrix`` (rows in
/// ascending ``ClientID`` order), and what else each client sent beside it, row by row.
///
/// This is the form the coordinator hands the ``RoundPipeline``: its ``RoundBlock`` writes each
/// delta into the block once, as it arrives, so a round of `n` updates costs `n · d` floats
/// rather than per-client arrays plus the aggregation rule's copy of them.
public struct RoundUpdates: Sendable {
    /// What a client sent besides its delta.
    public struct Details: Sendable, Equatable {
        /// The client's reported mean training loss (a diagnostic, possibly not finite).
        public var trainLoss: Double
        /// Its data sketch, when the detectors ask for one.
        public var sketch: DataSketch?
        /// Its revealed samples, for `audit-c2st`.
        public var auditSamples: LabeledSamples?
        /// Its commitment to its local steps (`training-audit`).
        public var commitment: TrainingCommitment?

        /// Creates details.
        public init(trainLoss: Double = .nan, sketch: DataSketch? = nil, auditSamples: LabeledSamples? = nil, commitment: TrainingCommitment? = nil) {
            self.commitment = commitment
            self.trainLoss = trainLoss
            self.sketch = sketch
            self.auditSamples = auditSamples
        }
    }

    /// The deltas, sample counts and weights, one row per client in ascending order.
    public private(set) var matrix: UpdateMatrix
    /// One entry per row of ``matrix``.
    public private(set) var details: [Details]

    /// Pairs a block with its rows' details.
    /// - Parameters:
    ///   - matrix: The rows.
    ///   - details: One entry per row.
    public init(matrix: UpdateMatrix, details: [Details]) {
        precondition(matrix.count == details.count, "RoundUpdates: one details entry per row")
        self.matrix = matrix
        self.details = details
    }

    /// Packs updates (in any order) into one block: the one copy of their deltas.
    /// - Parameters:
    ///   - updates: The updates, all of one dimension, each client once.
    ///   - rule: A name put in front of error messages.
    /// - Throws: ``AggregationError`` as ``UpdateMatrix/init(_:for:)``.
    public init(_ updates: [ClientUpdate], for rule: String? = nil) throws(AggregationError) {
        let matrix = try UpdateMatrix(updates, for: rule)
        let byClient = Dictionary(updates.map { ($0.client, $0) }, uniquingKeysWith: { first, _ in first })
        self.matrix = matrix
        self.details = matrix.clients.map { client in
            let update = byClient[client]!
            return Details(trainLoss: update.trainLoss, sketch: update.sketch, auditSamples: update.auditSamples, commitment: update.commitment)
        }
    }

    /// The number of rows.
    public var count: Int { matrix.count }

    /// The clients, ascending.
    public var clients: [ClientID] { matrix.clients }

    /// Row `index` as a ``ClientUpdate`` with its details (a copy of the delta).
    public func update(_ index: Int) -> ClientUpdate {
        var update = matrix.update(index)
        update.trainLoss = details[index].trainLoss
        update.sketch = details[index].sketch
        update.auditSamples = details[index].auditSamples
        update.commitment = details[index].commitment
        return update
    }

    /// Every row as a ``ClientUpdate`` (copies: for detectors and recorders that read per-client values).
    public var updates: [ClientUpdate] { (0..<count).map(update) }

    /// Keeps only the rows at `rows` (strictly ascending), copying them into a new block.
    public mutating func keep(rows: [Int]) {
        guard rows.count != count else { return }
        matrix = matrix.selecting(rows)
        details = rows.map { details[$0] }
    }

    /// Sets the trust weight of row `index`.
    /// - Throws: `.invalidInput` for a weight outside [0, 1].
    public mutating func setWeight(_ weight: Double, row index: Int) throws(AggregationError) {
        try matrix.setWeight(weight, for: matrix.clients[index])
    }
}
