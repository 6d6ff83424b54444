/// Bounds the decoder enforces before it allocates anything or accepts a message.
///
/// Every length read from the wire is checked against these limits and against the bytes that
/// remain, so a hostile length can neither allocate memory nor run past the buffer.
public struct DecodeLimits: Sendable, Equatable {
    /// The largest whole message (header and payload) accepted, in bytes. Default 512 MiB.
    public var maxMessageBytes: Int
    /// The dimension every TRAIN model and UPDATE delta must have, or `nil` to accept any.
    public var expectedParameterCount: Int?
    /// The most client identifiers a HELLO or TRAIN may list. Default 65,536.
    public var maxClients: Int
    /// The longest string (label, run id, reason, message, metric key) in UTF-8 bytes. Default 64 KiB.
    public var maxStringBytes: Int
    /// The most metrics an UPDATE may carry. Default 4,096.
    public var maxMetrics: Int
    /// The most steps an UPDATE's training commitment may list. Default 1,048,576.
    public var maxCommittedSteps: Int = 1 << 20
    /// The most steps a CHALLENGE may ask for or an OPENING may open. Default 64.
    public var maxOpenedSteps: Int = 64
    /// The most rows an opened batch may have. Default 65,536.
    public var maxBatchRows: Int = 65_536

    /// Creates limits.
    /// - Parameters:
    ///   - maxMessageBytes: The largest whole message in bytes (at most `16 + UInt32.max`).
    ///   - expectedParameterCount: The required vector dimension, or `nil` for any.
    ///   - maxClients: The most client identifiers in one list.
    ///   - maxStringBytes: The longest string in UTF-8 bytes.
    ///   - maxMetrics: The most metrics in one UPDATE.
    public init(
        maxMessageBytes: Int = 512 << 20, expectedParameterCount: Int? = nil, maxClients: Int = 65_536,
        maxStringBytes: Int = 64 << 10, maxMetrics: Int = 4_096
    ) {
        self.maxMessageBytes = maxMessageBytes
        self.expectedParameterCount = expectedParameterCount
        self.maxClients = maxClients
        self.maxStringBytes = maxStringBytes
        self.maxMetrics = maxMetrics
    }
}

extension DecodeLimits {
    /// The limits for what a coordinator receives (HELLO, UPDATE, ERROR), sized from the run's
    /// shapes instead of a fixed ceiling; use ``maxMessageBytes`` for `ZMQ_MAXMSGSIZE` too, so
    /// libzmq drops an oversized frame before it is allocated.
    ///
    /// The largest valid message is the largest of (wire format version 2, sizes in bytes):
    /// - UPDATE: 16 (header) + 40 (round, nonce, client, sampleCount, trainLoss) + 4 + 4d (delta)
    ///   + 4 + m (12 + s) (metrics: `m` = 64 keys of at most `s` = 1,024 bytes)
    ///   + 1 + [8 + 4 + 4C + 4 + 4CD] (sketch of C classes x D features, when asked for)
    ///   + 1 + [8 + 8 + 4 + 4k + 4 + 4kF] (k audit samples of F features, when asked for);
    /// - HELLO: 16 + 8 + 4 + 8n (n client ids) + 4 + s;
    /// - ERROR: 16 + 2 + 4 + s.
    /// - Parameters:
    ///   - parameterCount: The model's parameter count `d`.
    ///   - clients: The number of logical clients `n` (the longest HELLO list).
    ///   - sketch: The sketch shape clients send, when a detector asks for sketches.
    ///   - auditSamples: The revealed samples each UPDATE carries, when `audit-c2st` asks for them.
    ///   - trainingAudit: With `training-audit`: the most steps a commitment lists, the most
    ///     steps a challenge opens, the batch size and the features per sample. An UPDATE then
    ///     adds 1 + [4 + 32 + 4 + 4S] bytes (root, S norms) and an OPENING is at most
    ///     16 + 28 + k · (8 + 4 + 4d + 16 + 4 + 4B + 4 + 4BF + 2 · (68 + 4 + 32h) + 1), with
    ///     `h` the Merkle depth of S leaves.
    /// - Returns: Limits that accept every valid message of the run and nothing larger.
    public static func coordinator(
        parameterCount: Int, clients: Int, sketch: (classes: Int, dimension: Int)? = nil,
        auditSamples: (count: Int, featureCount: Int)? = nil,
        trainingAudit: (maxSteps: Int, openedSteps: Int, batchSize: Int, featureCount: Int)? = nil
    ) -> DecodeLimits {
        let maxString = 1_024
        let maxMetrics = 64
        var update = 16 + 40 + 4 + 4 * parameterCount + 4 + maxMetrics * (4 + maxString + 8) + 1 + 1 + 1
        if let sketch { update += 8 + 4 + 4 * sketch.classes + 4 + 4 * sketch.classes * sketch.dimension }
        if let audit = auditSamples { update += 8 + 8 + 4 + 4 * audit.count + 4 + 4 * audit.count * audit.featureCount }
        var opening = 0
        if let audit = trainingAudit {
            update += 4 + 32 + 4 + 4 * audit.maxSteps
            var depth = 0
            var count = max(1, audit.maxSteps)
            while count > 1 { count = (count + 1) / 2; depth += 1 }
            let leafAndProof = 32 + 32 + 4 + 4 + 32 * depth
            let step = 8 + 4 + 4 * parameterCount + 16 + 4 + 4 * audit.batchSize + 4 + 4 * audit.batchSize * audit.featureCount + leafAndProof + 1 + leafAndProof
            opening = 16 + 28 + audit.openedSteps * step
        }
        let hello = 16 + 8 + 4 + 8 * clients + 4 + maxString
        let error = 16 + 2 + 4 + maxString
        var limits = DecodeLimits(
            maxMessageBytes: max(update, hello, error, opening), expectedParameterCount: parameterCount, maxClients: clients,
            maxStringBytes: maxString, maxMetrics: maxMetrics)
        if let audit = trainingAudit {
            limits.maxCommittedSteps = audit.maxSteps
            limits.maxOpenedSteps = audit.openedSteps
            limits.maxBatchRows = audit.batchSize
        }
        return limits
    }
}
