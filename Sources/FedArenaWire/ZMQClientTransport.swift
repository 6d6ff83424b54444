import CZeroMQ
import FedArenaCore
import Foundation

/// A client process's ZeroMQ transport: a DEALER socket connected to the coordinator.
///
/// The same one-socket-one-thread design as ``ZMQServerTransport``. libzmq connects in the
/// background and reconnects after a drop; messages sent before the connection is up are
/// queued (up to the high-water mark). Inbound messages must be a single frame; others are
/// dropped and counted.
///
/// ## Reconnection
/// A connection that drops (the coordinator restarted, or this process was stopped past the
/// heartbeat timeout) comes back under a new ROUTER identity, which the coordinator does not
/// know. So after every reconnection (a handshake after the first) the transport sends again
/// the last HELLO sent through it and counts it in ``ZMQTransportStatistics/reannouncements``;
/// the coordinator binds the process to the new connection and answers WELCOME, which the
/// client runtime ignores as a repeat. Messages libzmq still held from before the drop (a late
/// UPDATE) reach the new connection first; the coordinator refuses those as coming from a peer
/// that has not said HELLO yet.
public final class ZMQClientTransport: ClientTransport {
    /// Messages from the coordinator, in arrival order; finishes after ``close()``. Iterate it from one task.
    public let inbound: AsyncStream<[UInt8]>
    /// The endpoint this transport connects to.
    public let endpoint: String
    /// The socket's security.
    public let security: ZMQSecurity
    private let loop: ZMQSocketLoop

    /// Creates a DEALER socket and connects it.
    /// - Parameters:
    ///   - context: The process's ZeroMQ context.
    ///   - endpoint: The coordinator's endpoint (its ``ZMQServerTransport/boundEndpoint``).
    ///   - options: Socket limits, queue sizes, heartbeats and security (plaintext or a CURVE client).
    /// - Throws: `TransportError` `.connectFailed` naming the endpoint and libzmq's reason
    ///   (malformed endpoint, unsupported protocol, server keys on a client, CURVE over
    ///   `inproc://`). An unreachable host is not an error: libzmq keeps trying; so is a
    ///   refused key, reported by ``connectionStatus``.
    public init(context: ZMQContext, endpoint: String, options: ZMQTransportOptions = ZMQTransportOptions()) throws(TransportError) {
        guard ZMQSecurity.supports(options.security, endpoint: endpoint) else {
            throw TransportError(.connectFailed, "cannot connect to \(endpoint) with CURVE: libzmq does not authenticate inproc:// peers; use tcp:// or ipc://")
        }
        guard let socket = zmq_socket(context.handle, ZMQ_DEALER) else {
            throw TransportError(.connectFailed, "cannot create a DEALER socket for \(endpoint): \(ZMQ.lastErrorDescription())")
        }
        ZMQ.configure(socket, options)
        switch options.security {
        case .plaintext:
            break
        case .curveServer:
            ZMQ.close(socket)
            throw TransportError(.connectFailed, "cannot connect to \(endpoint): a client needs CURVE client keys and the server's public key, not server keys")
        case .curveClient(let keyPair, let serverKey):
            guard ZMQ.setCurveClient(socket, keyPair: keyPair, serverKey: serverKey) else {
                let reason = ZMQ.lastErrorDescription()
                ZMQ.close(socket)
                throw TransportError(.connectFailed, "cannot make the socket for \(endpoint) a CURVE client: \(reason)")
            }
        }
        security = options.security
        var monitor: UnsafeMutableRawPointer?
        if !endpoint.hasPrefix("inproc://") {
            switch ZMQ.attachMonitor(socket, context: context) {
            case .success(let pair): monitor = pair
            case .failure(let error):
                ZMQ.close(socket)
                throw TransportError(.connectFailed, "cannot connect to \(endpoint): \(error.message)")
            }
        }
        guard zmq_connect(socket, endpoint) == 0 else {
            let reason = ZMQ.lastErrorDescription()
            if let monitor { ZMQ.close(monitor) }
            ZMQ.close(socket)
            throw TransportError(.connectFailed, "cannot connect to \(endpoint): \(reason)")
        }
        self.endpoint = endpoint
        let (stream, continuation) = AsyncStream.makeStream(of: [UInt8].self, bufferingPolicy: .unbounded)
        inbound = stream
        loop = try ZMQSocketLoop(
            context: context, socket: socket, name: "client of \(endpoint)", role: .dealer(continuation),
            failure: .connectFailed, monitor: monitor)
    }

    /// The connection's state: whether the server is reachable, how long it has been silent,
    /// and the last handshake failure (a refused key). A watchdog reads it to give up on a
    /// coordinator that is gone.
    public var connectionStatus: ZMQConnectionStatus { loop.connectionStatus }

    deinit { loop.close() }

    /// Enqueues `payload` for the coordinator and returns at once.
    /// - Parameter payload: One encoded message.
    /// - Throws: `TransportError` `.closed` after ``close()``.
    public func send(_ payload: [UInt8]) throws(TransportError) {
        try loop.send(payload, to: nil)
    }

    /// Sends what is queued, closes the socket (lingering up to the configured time) and
    /// finishes ``inbound``. Idempotent; also done on deinit.
    public func close() { loop.close() }

    /// Delivery counters.
    public var statistics: ZMQTransportStatistics { loop.statistics }
}
