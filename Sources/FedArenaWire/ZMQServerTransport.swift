import CZeroMQ
import FedArenaCore
import Foundation

/// The coordinator's ZeroMQ transport: a ROUTER socket bound for the whole run.
///
/// A dedicated thread owns the socket: it blocks in `zmq_poll` on the socket and on an
/// `inproc` wake-up pair, delivers inbound messages to ``inbound`` and sends what ``send(_:to:)``
/// queued. Sends never block: `ZMQ_ROUTER_MANDATORY` makes libzmq refuse a message for a peer
/// that is gone or whose queue is full instead of waiting; such messages are dropped and
/// counted in ``statistics``.
///
/// ## Peers and frames
/// A peer is *known* once one of its messages has been delivered; ``send(_:to:)`` to any other
/// peer throws `.unknownPeer`. A peer that disconnects stays known until a send to it fails
/// inside libzmq (`EHOSTUNREACH`): that message is dropped and later sends throw `.unknownPeer`.
/// Inbound messages must be `[routing id, payload]`: an empty payload frame is delivered (the
/// codec then rejects it, so the coordinator can answer ERROR); messages with more payload
/// frames (a REQ peer's delimiter, garbage) are dropped and counted in
/// ``ZMQTransportStatistics/droppedInbound``. A frame above the `ZMQ_MAXMSGSIZE` limit makes
/// libzmq drop the connection before anything is allocated.
///
/// ## Security
/// With ``ZMQSecurity/curveServer(keyPair:allowList:)`` the socket is a CURVE server: the
/// context's ZAP handler admits only the allow-list's keys, every delivered message carries
/// the identity its key is bound to (``FedArenaCore/InboundMessage/authenticated``), and
/// refused handshakes are counted (``statistics``) and the first ones kept with their key and
/// address (``authentication``). Plaintext peers never get a message through.
public final class ZMQServerTransport: ServerTransport {
    /// The endpoint actually bound, read back with `ZMQ_LAST_ENDPOINT` (real port for `:0` or `:*`).
    public let boundEndpoint: String
    /// Messages from peers, in arrival order; finishes after ``close()``. Iterate it from one task.
    public let inbound: AsyncStream<InboundMessage>
    /// The socket's security.
    public let security: ZMQSecurity
    private let loop: ZMQSocketLoop
    private let zap: (handler: ZAPHandler, domain: String)?

    /// Binds a ROUTER socket.
    /// - Parameters:
    ///   - context: The process's ZeroMQ context.
    ///   - endpoint: A ZeroMQ endpoint; `tcp://HOST:0` binds an ephemeral port (as `tcp://HOST:*`).
    ///   - options: Socket limits, queue sizes, heartbeats and security (plaintext or a CURVE server).
    /// - Throws: `TransportError` `.bindFailed` naming the endpoint and libzmq's reason
    ///   (address in use, malformed endpoint, unsupported protocol), or a security setting
    ///   that cannot apply (CURVE client keys on a server, CURVE over `inproc://`).
    public init(context: ZMQContext, endpoint: String, options: ZMQTransportOptions = ZMQTransportOptions()) throws(TransportError) {
        let requested = Self.normalize(endpoint)
        guard ZMQSecurity.supports(options.security, endpoint: requested) else {
            throw TransportError(.bindFailed, "cannot bind \(endpoint) with CURVE: libzmq does not authenticate inproc:// peers; use tcp:// or ipc://")
        }
        guard let socket = zmq_socket(context.handle, ZMQ_ROUTER) else {
            throw TransportError(.bindFailed, "cannot create a ROUTER socket for \(endpoint): \(ZMQ.lastErrorDescription())")
        }
        ZMQ.setOption(socket, ZMQ_ROUTER_MANDATORY, Int32(1))
        ZMQ.configure(socket, options)
        var zap: (handler: ZAPHandler, domain: String)?
        switch options.security {
        case .plaintext:
            break
        case .curveClient:
            ZMQ.close(socket)
            throw TransportError(.bindFailed, "cannot bind \(endpoint): a server needs CURVE server keys, not client keys")
        case .curveServer(let keyPair, let allowList):
            do throws(TransportError) {
                // The handler must be bound before the socket accepts: without one libzmq admits every key.
                let handler = try context.zapHandler()
                let domain = handler.register(allowList)
                zap = (handler, domain)
                guard ZMQ.setCurveServer(socket, keyPair: keyPair, domain: domain) else {
                    handler.unregister(domain)
                    throw TransportError(.bindFailed, "cannot make \(endpoint) a CURVE server: \(ZMQ.lastErrorDescription())")
                }
            } catch {
                ZMQ.close(socket)
                throw error
            }
        }
        var monitor: UnsafeMutableRawPointer?
        if !requested.hasPrefix("inproc://") {
            switch ZMQ.attachMonitor(socket, context: context) {
            case .success(let pair): monitor = pair
            case .failure(let error):
                ZMQ.close(socket)
                if let zap { zap.handler.unregister(zap.domain) }
                throw TransportError(.bindFailed, "cannot bind \(endpoint): \(error.message)")
            }
        }
        guard zmq_bind(socket, requested) == 0 else {
            let reason = ZMQ.lastErrorDescription()
            if let monitor { ZMQ.close(monitor) }
            ZMQ.close(socket)
            if let zap { zap.handler.unregister(zap.domain) }
            throw TransportError(.bindFailed, "cannot bind \(endpoint): \(reason)")
        }
        boundEndpoint = ZMQ.stringOption(socket, ZMQ_LAST_ENDPOINT) ?? requested
        security = options.security
        self.zap = zap
        let (stream, continuation) = AsyncStream.makeStream(of: InboundMessage.self, bufferingPolicy: .unbounded)
        inbound = stream
        do {
            loop = try ZMQSocketLoop(
                context: context, socket: socket, name: "server \(boundEndpoint)", role: .router(continuation),
                failure: .bindFailed, monitor: monitor)
        } catch {
            if let zap { zap.handler.unregister(zap.domain) }
            throw error
        }
    }

    deinit {
        loop.close()
        if let zap { zap.handler.unregister(zap.domain) }
    }

    /// What the ZAP handler decided for this server (all zero for plaintext).
    public var authentication: ZMQAuthenticationStatistics {
        zap.map { $0.handler.statistics(of: $0.domain) } ?? ZMQAuthenticationStatistics()
    }


    /// Enqueues `payload` for `peer` and returns at once.
    /// - Parameters:
    ///   - payload: One encoded message.
    ///   - peer: A peer that has sent a message.
    /// - Throws: `TransportError` `.closed` after ``close()``, `.unknownPeer` for a peer never
    ///   heard from or known to be gone.
    public func send(_ payload: [UInt8], to peer: PeerID) throws(TransportError) {
        try loop.send(payload, to: peer.bytes)
    }

    /// Enqueues `payload` for every known peer (SHUTDOWN at the end of a run or on a signal).
    /// Peers that fail are skipped.
    /// - Parameter payload: One encoded message.
    /// - Returns: How many peers it was queued for.
    @discardableResult
    public func broadcast(_ payload: [UInt8]) -> Int { loop.broadcast(payload) }

    /// Sends what is queued, closes the socket (lingering up to the configured time) and
    /// finishes ``inbound``. Idempotent; also done on deinit.
    public func close() { loop.close() }

    /// Delivery counters.
    public var statistics: ZMQTransportStatistics { loop.statistics }

    /// `tcp://host:0` → `tcp://host:*` (libzmq's spelling of an ephemeral port).
    static func normalize(_ endpoint: String) -> String {
        if endpoint.hasPrefix("tcp://") && endpoint.hasSuffix(":0") {
            return String(endpoint.dropLast()) + "*"
        }
        return endpoint
    }
}
