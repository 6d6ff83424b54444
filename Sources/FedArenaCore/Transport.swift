/// The address of a connected peer as the server transport knows it (a ZeroMQ routing id).
public struct PeerID: Hashable, Sendable, CustomStringConvertible {
    /// The opaque identity bytes.
    public var bytes: [UInt8]

    /// Wraps identity bytes.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var description: String { "peer " + bytes.map { String($0, radix: 16) }.joined() }
}

/// Who a server transport's authentication says a peer is: the role bound to the peer's
/// public key by the allow-list (`fedarena keys generate`), checked during the CurveZMQ
/// handshake before any of its messages is delivered.
public enum AuthenticatedPeer: Hashable, Sendable, CustomStringConvertible {
    /// The client OS process with this index (`0..<clients.processes`).
    case clientProcess(Int)
    /// The coordinator (as a client of the adversary process).
    case coordinator

    public var description: String {
        switch self {
        case .clientProcess(let index): "client process \(index)"
        case .coordinator: "the coordinator"
        }
    }
}

/// One message received by a server transport.
public struct InboundMessage: Sendable {
    /// Who sent it.
    public var peer: PeerID
    /// The message bytes (decoded by `FedArenaWire`'s codec).
    public var payload: [UInt8]
    /// The authenticated identity of the sender's connection, or `nil` when the transport does
    /// not authenticate (plaintext, in-process).
    public var authenticated: AuthenticatedPeer?

    /// The client process index the sender authenticated as, or `nil` when the connection is
    /// not authenticated or belongs to another role. A coordinator running with CURVE must
    /// refuse a HELLO whose process index differs from this.
    public var authenticatedProcess: Int? {
        if case .clientProcess(let index)? = authenticated { index } else { nil }
    }

    /// Creates an inbound message.
    /// - Parameters:
    ///   - peer: The sender's routing identity.
    ///   - payload: The message bytes.
    ///   - authenticated: The sender's authenticated identity, if the transport checked one.
    public init(peer: PeerID, payload: [UInt8], authenticated: AuthenticatedPeer? = nil) {
        self.peer = peer
        self.payload = payload
        self.authenticated = authenticated
    }
}

/// The coordinator's side of a message transport: many peers, addressed replies.
///
/// ## Implementation requirements
/// - `send` only enqueues; it never blocks on a slow peer, and throws ``TransportError``
///   (never traps) when the transport is closed or the peer is unknown.
/// - `inbound` yields messages in arrival order and finishes after ``close()``.
/// - Implementations are thread-safe: `send` may be called from any task.
public protocol ServerTransport: Sendable {
    /// The endpoint actually bound, with the real port when a wildcard port was asked for.
    var boundEndpoint: String { get }
    /// Messages from peers, in arrival order.
    var inbound: AsyncStream<InboundMessage> { get }
    /// Enqueues `payload` for `peer`.
    func send(_ payload: [UInt8], to peer: PeerID) throws(TransportError)
    /// Stops receiving and releases the endpoint.
    func close()
}

/// A client's side of a message transport: one connection to the coordinator.
///
/// ## Implementation requirements
/// The same as ``ServerTransport``: non-blocking thread-safe `send`, ordered `inbound`.
public protocol ClientTransport: Sendable {
    /// Messages from the coordinator, in arrival order.
    var inbound: AsyncStream<[UInt8]> { get }
    /// Enqueues `payload` for the coordinator.
    func send(_ payload: [UInt8]) throws(TransportError)
    /// Disconnects.
    func close()
}

/// A transport failure: a socket that cannot bind or connect, or a send on a closed transport.
public struct TransportError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable { case bindFailed, connectFailed, closed, sendFailed, unknownPeer }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// The endpoint could not be bound.
        public static let bindFailed = Code(.bindFailed)
        /// The endpoint could not be connected to.
        public static let connectFailed = Code(.connectFailed)
        /// The transport was closed.
        public static let closed = Code(.closed)
        /// The message could not be sent.
        public static let sendFailed = Code(.sendFailed)
        /// No peer with that identity is connected.
        public static let unknownPeer = Code(.unknownPeer)

        public var description: String {
            switch wrapped {
            case .bindFailed: "bind failed"
            case .connectFailed: "connect failed"
            case .closed: "transport closed"
            case .sendFailed: "send failed"
            case .unknownPeer: "unknown peer"
            }
        }
    }

    /// The kind of failure.
    public var code: Code
    /// What happened, naming the endpoint or peer.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
