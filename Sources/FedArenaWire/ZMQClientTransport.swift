import CZeroMQ
import FedArenaCore
import Foundation

/// A client process's ZeroMQ transport: a DEALER socket connected to the coordinator.
///
/// The same one-socket-one-thread design as ``ZMQServerTransport``. libzmq connects in the
/// background and reconnects after a drop; messages sent before the connection is up are
/// queued (up to the high-water mark). Inbound messages must be a single frame; others are
/// dropped and counted.
public final class ZMQClientTransport: ClientTransport {
    /// Messages from the coordinator, in arrival order; finishes after ``close()``. Iterate it from one task.
    public let inbound: AsyncStream<[UInt8]>
    /// The endpoint this transport connects to.
    public let endpoint: String
    private let loop: ZMQSocketLoop

    /// Creates a DEALER socket and connects it.
    /// - Parameters:
    ///   - context: The process's ZeroMQ context.
    ///   - endpoint: The coordinator's endpoint (its ``ZMQServerTransport/boundEndpoint``).
    ///   - options: Socket limits and queue sizes.
    /// - Throws: `TransportError` `.connectFailed` naming the endpoint and libzmq's reason
    ///   (malformed endpoint, unsupported protocol). An unreachable host is not an error:
    ///   libzmq keeps trying.
    public init(context: ZMQContext, endpoint: String, options: ZMQTransportOptions = ZMQTransportOptions()) throws(TransportError) {
        guard let socket = zmq_socket(context.handle, ZMQ_DEALER) else {
            throw TransportError(.connectFailed, "cannot create a DEALER socket for \(endpoint): \(ZMQ.lastErrorDescription())")
        }
        ZMQ.setOption(socket, ZMQ_LINGER, options.lingerMilliseconds)
        ZMQ.setOption(socket, ZMQ_SNDHWM, options.sendHighWaterMark)
        ZMQ.setOption(socket, ZMQ_RCVHWM, options.receiveHighWaterMark)
        ZMQ.setOption(socket, ZMQ_MAXMSGSIZE, Int64(options.maxMessageBytes ?? -1))
        guard zmq_connect(socket, endpoint) == 0 else {
            let reason = ZMQ.lastErrorDescription()
            ZMQ.close(socket)
            throw TransportError(.connectFailed, "cannot connect to \(endpoint): \(reason)")
        }
        self.endpoint = endpoint
        let (stream, continuation) = AsyncStream.makeStream(of: [UInt8].self, bufferingPolicy: .unbounded)
        inbound = stream
        loop = try ZMQSocketLoop(
            context: context, socket: socket, name: "client of \(endpoint)", role: .dealer(continuation),
            failure: .connectFailed)
    }

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
