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
public final class ZMQServerTransport: ServerTransport {
    /// The endpoint actually bound, read back with `ZMQ_LAST_ENDPOINT` (real port for `:0` or `:*`).
    public let boundEndpoint: String
    /// Messages from peers, in arrival order; finishes after ``close()``. Iterate it from one task.
    public let inbound: AsyncStream<InboundMessage>
    private let loop: ZMQSocketLoop

    /// Binds a ROUTER socket.
    /// - Parameters:
    ///   - context: The process's ZeroMQ context.
    ///   - endpoint: A ZeroMQ endpoint; `tcp://HOST:0` binds an ephemeral port (as `tcp://HOST:*`).
    ///   - options: Socket limits and queue sizes.
    /// - Throws: `TransportError` `.bindFailed` naming the endpoint and libzmq's reason
    ///   (address in use, malformed endpoint, unsupported protocol).
    public init(context: ZMQContext, endpoint: String, options: ZMQTransportOptions = ZMQTransportOptions()) throws(TransportError) {
        let requested = Self.normalize(endpoint)
        guard let socket = zmq_socket(context.handle, ZMQ_ROUTER) else {
            throw TransportError(.bindFailed, "cannot create a ROUTER socket for \(endpoint): \(ZMQ.lastErrorDescription())")
        }
        ZMQ.setOption(socket, ZMQ_ROUTER_MANDATORY, Int32(1))
        ZMQ.setOption(socket, ZMQ_LINGER, options.lingerMilliseconds)
        ZMQ.setOption(socket, ZMQ_SNDHWM, options.sendHighWaterMark)
        ZMQ.setOption(socket, ZMQ_RCVHWM, options.receiveHighWaterMark)
        ZMQ.setOption(socket, ZMQ_MAXMSGSIZE, Int64(options.maxMessageBytes ?? -1))
        guard zmq_bind(socket, requested) == 0 else {
            let reason = ZMQ.lastErrorDescription()
            ZMQ.close(socket)
            throw TransportError(.bindFailed, "cannot bind \(endpoint): \(reason)")
        }
        boundEndpoint = ZMQ.stringOption(socket, ZMQ_LAST_ENDPOINT) ?? requested
        let (stream, continuation) = AsyncStream.makeStream(of: InboundMessage.self, bufferingPolicy: .unbounded)
        inbound = stream
        loop = try ZMQSocketLoop(
            context: context, socket: socket, name: "server \(boundEndpoint)", role: .router(continuation),
            failure: .bindFailed)
    }

    deinit { loop.close() }

    /// Enqueues `payload` for `peer` and returns at once.
    /// - Parameters:
    ///   - payload: One encoded message.
    ///   - peer: A peer that has sent a message.
    /// - Throws: `TransportError` `.closed` after ``close()``, `.unknownPeer` for a peer never
    ///   heard from or known to be gone.
    public func send(_ payload: [UInt8], to peer: PeerID) throws(TransportError) {
        try loop.send(payload, to: peer.bytes)
    }

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
