import FedArenaCore
import Synchronization

/// An in-memory hub that connects one ``InProcessServerTransport`` to any number of
/// ``InProcessClientTransport``s through `AsyncStream`s. **For unit tests only**: it lets
/// runtime tests run a coordinator and clients in one process without sockets or threads.
///
/// It follows the ZeroMQ transports' semantics:
/// - each client gets a 5-byte ``PeerID`` (`0` then a 32-bit big-endian counter, like a ROUTER's);
/// - the server knows a peer once that peer has sent a message; sending to any other peer, or to
///   one that has closed, throws `.unknownPeer` (a little stricter than ZeroMQ, which notices a
///   gone peer only when a send to it fails);
/// - `send` after `close()` throws `.closed`; `close()` finishes that side's `inbound` and is
///   idempotent; a client's messages sent while the server is closed are dropped, as a DEALER's
///   would be never delivered.
public final class InProcessTransport: Sendable {
    /// The coordinator's side.
    public let server: InProcessServerTransport
    private let hub: Hub

    /// Creates a hub and its server side.
    public init() {
        let (stream, continuation) = AsyncStream.makeStream(of: InboundMessage.self, bufferingPolicy: .unbounded)
        hub = Hub(serverContinuation: continuation)
        server = InProcessServerTransport(hub: hub, inbound: stream)
    }

    /// Connects a new client to the server.
    /// - Returns: The client's side.
    public func connect() -> InProcessClientTransport {
        let (stream, continuation) = AsyncStream.makeStream(of: [UInt8].self, bufferingPolicy: .unbounded)
        let peer = hub.register(continuation)
        return InProcessClientTransport(hub: hub, peer: peer, inbound: stream)
    }

    /// The shared state: who is connected, who is known, who is closed.
    final class Hub: Sendable {
        struct State {
            var serverClosed = false
            var nextPeer: UInt32 = 1
            var clients: [PeerID: AsyncStream<[UInt8]>.Continuation] = [:]
            var knownPeers: Set<PeerID> = []
        }

        let state: Mutex<State>
        let serverContinuation: AsyncStream<InboundMessage>.Continuation

        init(serverContinuation: AsyncStream<InboundMessage>.Continuation) {
            self.serverContinuation = serverContinuation
            state = Mutex(State())
        }

        func register(_ continuation: AsyncStream<[UInt8]>.Continuation) -> PeerID {
            state.withLock { state in
                let number = state.nextPeer
                state.nextPeer &+= 1
                let peer = PeerID([0, UInt8(number >> 24), UInt8((number >> 16) & 0xFF), UInt8((number >> 8) & 0xFF), UInt8(number & 0xFF)])
                state.clients[peer] = continuation
                return peer
            }
        }
    }
}

/// The server side of an ``InProcessTransport`` (unit tests only).
public final class InProcessServerTransport: ServerTransport {
    /// Always `"inproc-hub"`: there is no real endpoint.
    public let boundEndpoint = "inproc-hub"
    /// Messages from clients, in arrival order; finishes after ``close()``.
    public let inbound: AsyncStream<InboundMessage>
    private let hub: InProcessTransport.Hub

    init(hub: InProcessTransport.Hub, inbound: AsyncStream<InboundMessage>) {
        self.hub = hub
        self.inbound = inbound
    }

    deinit { close() }

    /// Delivers `payload` to `peer`'s inbound stream.
    /// - Parameters:
    ///   - payload: The message bytes.
    ///   - peer: A client that has sent a message and has not closed.
    /// - Throws: `TransportError` `.closed` after ``close()``, `.unknownPeer` for a peer that never sent a message or has closed.
    public func send(_ payload: [UInt8], to peer: PeerID) throws(TransportError) {
        let failure: TransportError? = hub.state.withLock { state in
            if state.serverClosed { return TransportError(.closed, "in-process server is closed") }
            guard state.knownPeers.contains(peer), let client = state.clients[peer] else {
                return TransportError(.unknownPeer, "in-process server: \(peer) is not connected (never sent a message, or gone)")
            }
            client.yield(payload)
            return nil
        }
        if let failure { throw failure }
    }

    /// Stops accepting messages and finishes ``inbound``. Idempotent.
    public func close() {
        let wasOpen = hub.state.withLock { state in
            defer { state.serverClosed = true }
            return !state.serverClosed
        }
        if wasOpen { hub.serverContinuation.finish() }
    }
}

/// A client side of an ``InProcessTransport`` (unit tests only).
public final class InProcessClientTransport: ClientTransport {
    /// The identity the server sees for this client.
    public let peer: PeerID
    /// Messages from the server, in order; finishes after ``close()``.
    public let inbound: AsyncStream<[UInt8]>
    private let hub: InProcessTransport.Hub
    private let closed = Mutex(false)

    init(hub: InProcessTransport.Hub, peer: PeerID, inbound: AsyncStream<[UInt8]>) {
        self.hub = hub
        self.peer = peer
        self.inbound = inbound
    }

    deinit { close() }

    /// Delivers `payload` to the server's inbound stream (dropped if the server is closed).
    /// - Parameter payload: The message bytes.
    /// - Throws: `TransportError` `.closed` after ``close()``.
    public func send(_ payload: [UInt8]) throws(TransportError) {
        if closed.withLock({ $0 }) { throw TransportError(.closed, "in-process client \(peer) is closed") }
        hub.state.withLock { state in
            guard !state.serverClosed, state.clients[peer] != nil else { return }
            state.knownPeers.insert(peer)
            hub.serverContinuation.yield(InboundMessage(peer: peer, payload: payload))
        }
    }

    /// Disconnects: the server forgets this peer and ``inbound`` finishes. Idempotent.
    public func close() {
        let wasOpen = closed.withLock { closed in
            defer { closed = true }
            return !closed
        }
        guard wasOpen else { return }
        let continuation = hub.state.withLock { state in
            state.knownPeers.remove(peer)
            return state.clients.removeValue(forKey: peer)
        }
        continuation?.finish()
    }
}
