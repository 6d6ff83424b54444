/// Socket settings for ``ZMQServerTransport`` and ``ZMQClientTransport``.
public struct ZMQTransportOptions: Sendable, Equatable {
    /// The largest message libzmq accepts from a peer (`ZMQ_MAXMSGSIZE`), in bytes. A peer that
    /// sends a larger frame is disconnected by libzmq before the frame is allocated.
    /// Default 512 MiB, a ceiling for tests and tools; a coordinator sizes it from its model
    /// with ``DecodeLimits/coordinator(parameterCount:clients:sketch:auditSamples:trainingAudit:)``. libzmq
    /// reads it when the socket binds or connects, so set it here, before the transport exists.
    /// `nil` for no limit.
    public var maxMessageBytes: Int?
    /// Encryption and authentication. Default ``ZMQSecurity/plaintext``.
    public var security: ZMQSecurity
    /// How often the socket sends a ZMTP PING on an idle connection (`ZMQ_HEARTBEAT_IVL`), in
    /// milliseconds, or `nil` for none. Default 2,000. Heartbeats let a client notice a
    /// coordinator that vanished without closing its connection (a killed host, a cut cable).
    public var heartbeatIntervalMilliseconds: Int32?
    /// How long the socket waits for traffic after a PING before it drops the connection
    /// (`ZMQ_HEARTBEAT_TIMEOUT`; also sent to the peer as `ZMQ_HEARTBEAT_TTL`), in
    /// milliseconds. Default 15,000.
    public var heartbeatTimeoutMilliseconds: Int32
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
    ///   - security: Plaintext or CURVE.
    ///   - heartbeatIntervalMilliseconds: The ZMTP heartbeat interval, or `nil` for none.
    ///   - heartbeatTimeoutMilliseconds: How long an unanswered heartbeat keeps a connection.
    public init(
        maxMessageBytes: Int? = 512 << 20, sendHighWaterMark: Int32 = 4_096, receiveHighWaterMark: Int32 = 4_096,
        lingerMilliseconds: Int32 = 200, security: ZMQSecurity = .plaintext, heartbeatIntervalMilliseconds: Int32? = 2_000,
        heartbeatTimeoutMilliseconds: Int32 = 15_000
    ) {
        self.maxMessageBytes = maxMessageBytes
        self.security = security
        self.heartbeatIntervalMilliseconds = heartbeatIntervalMilliseconds
        self.heartbeatTimeoutMilliseconds = heartbeatTimeoutMilliseconds
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
    /// Connections whose security handshake completed (every connection counts, plaintext too).
    public var handshakes = 0
    /// Handshakes refused for authentication: a key the allow-list does not hold (server
    /// side), or a server that refused this client's key (client side).
    public var authenticationFailures = 0
    /// Handshakes that failed for another reason: a plaintext peer meeting a CURVE one, a
    /// wrong server key, a malformed greeting.
    public var protocolFailures = 0
    /// Connections that ended (the peer closed, died, or missed its heartbeats).
    public var disconnects = 0
    /// HELLOs a client transport sent again by itself after reconnecting.
    public var reannouncements = 0

    /// All zero.
    public init() {}
}

/// A client transport's view of its connection to the server.
public struct ZMQConnectionStatus: Sendable, Equatable {
    /// Whether a connection is up: its handshake (CURVE or plaintext) completed and it has not
    /// dropped since (a dead peer drops it after the heartbeat timeout).
    public var isConnected: Bool
    /// How long the server has not been heard from: zero while connected, else the time since
    /// the connection dropped (or since the transport started, if it never connected).
    public var silence: Duration
    /// The last handshake failure in words (a refused key, a CURVE/plaintext mismatch), cleared
    /// by the next successful handshake.
    public var lastFailure: String?

    /// Creates a status.
    /// - Parameters:
    ///   - isConnected: Whether a connection is up.
    ///   - silence: How long the server has not been heard from.
    ///   - lastFailure: The last handshake failure.
    public init(isConnected: Bool, silence: Duration, lastFailure: String?) {
        self.isConnected = isConnected
        self.silence = silence
        self.lastFailure = lastFailure
    }
}
