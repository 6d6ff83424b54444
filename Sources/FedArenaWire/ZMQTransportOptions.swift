/// Socket settings for ``ZMQServerTransport`` and ``ZMQClientTransport``.
public struct ZMQTransportOptions: Sendable, Equatable {
    /// The largest message libzmq accepts from a peer (`ZMQ_MAXMSGSIZE`), in bytes. A peer that
    /// sends a larger frame is disconnected by libzmq before the frame is allocated.
    /// Default 512 MiB, the same as ``DecodeLimits/maxMessageBytes``; `nil` for no limit.
    public var maxMessageBytes: Int?
    /// Messages queued per peer before sends to it fail (`ZMQ_SNDHWM`). Default 4,096.
    ///
    /// High-water marks count messages per peer pipe, not bytes: a round of 100 clients with
    /// 320 KB models queues one TRAIN (and receives one UPDATE) per client, about 32 MB in all,
    /// far below the mark. A peer that is thousands of messages behind has stopped reading; its
    /// further messages are dropped and counted, so it can never block the others.
    public var sendHighWaterMark: Int32
    /// Messages buffered per peer before libzmq stops reading its connection (`ZMQ_RCVHWM`). Default 4,096.
    public var receiveHighWaterMark: Int32
    /// How long `close` lets queued outbound messages drain (`ZMQ_LINGER`), in milliseconds. Default 200.
    public var lingerMilliseconds: Int32

    /// Creates options.
    /// - Parameters:
    ///   - maxMessageBytes: The largest inbound message, or `nil` for no limit.
    ///   - sendHighWaterMark: Outbound messages queued per peer.
    ///   - receiveHighWaterMark: Inbound messages buffered per peer.
    ///   - lingerMilliseconds: How long closing waits for queued messages.
    public init(
        maxMessageBytes: Int? = 512 << 20, sendHighWaterMark: Int32 = 4_096, receiveHighWaterMark: Int32 = 4_096,
        lingerMilliseconds: Int32 = 200
    ) {
        self.maxMessageBytes = maxMessageBytes
        self.sendHighWaterMark = sendHighWaterMark
        self.receiveHighWaterMark = receiveHighWaterMark
        self.lingerMilliseconds = lingerMilliseconds
    }
}

/// Counters of a ZeroMQ transport, for logs and tests.
public struct ZMQTransportStatistics: Sendable, Equatable {
    /// Messages handed to the `inbound` stream.
    public var delivered = 0
    /// Inbound messages dropped because their frame layout was not the expected one.
    public var droppedInbound = 0
    /// Messages handed to libzmq for sending.
    public var sent = 0
    /// Outbound messages dropped: the peer was gone (`EHOSTUNREACH`) or its queue was full.
    public var droppedOutbound = 0

    /// All zero.
    public init() {}
}
