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
