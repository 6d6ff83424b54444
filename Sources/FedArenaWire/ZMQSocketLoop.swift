import CZeroMQ
import FedArenaCore
import Foundation
import Synchronization

/// The engine shared by ``ZMQServerTransport`` and ``ZMQClientTransport``: one socket, one thread.
///
/// - The *main* socket (ROUTER or DEALER) and the *wake receiver* (an `inproc` PAIR) are touched
///   only by the dedicated I/O thread once it has started (they are created and bound by the
///   initialiser before the thread starts; `Thread.start` is the memory fence that hands them over).
/// - The *waker*, the other end of the PAIR, is touched only while holding `state`'s mutex, by
///   `send`/`close` on any thread and finally by the I/O thread when it closes it.
/// - `send` appends to the queue under the mutex and, when the queue was empty, sends one empty
///   frame through the waker. The I/O thread blocks in `zmq_poll` on both sockets (no timeout,
///   no busy polling); it drains the wake frames *before* it takes the queue, so no wake-up is lost.
final class ZMQSocketLoop: @unchecked Sendable {
    enum Role: Sendable {
        /// A ROUTER: inbound is `[routing id, payload]`, outbound needs a peer.
        case router(AsyncStream<InboundMessage>.Continuation)
        /// A DEALER: inbound and outbound are `[payload]`.
        case dealer(AsyncStream<[UInt8]>.Continuation)
    }

    struct Outbound {
        var peer: [UInt8]?
        var payload: [UInt8]
    }

    struct State {
        var queue: [Outbound] = []
        var closed = false
        var waker: UnsafeMutableRawPointer?
        /// Routing ids that sent at least one delivered message and were not reported unreachable
        /// (grows with the peers of a run; libzmq does not report quiet disconnects).
        var knownPeers: Set<[UInt8]> = []
        var statistics = ZMQTransportStatistics()
        /// Live connections as the monitor reports them (handshakes minus disconnects).
        var liveConnections = 0
        /// When the peer was last known to be there: a message, a handshake, or the moment the
        /// last live connection dropped.
        var lastContact: ContinuousClock.Instant = .now
        /// The last handshake failure, in words.
        var lastFailure: String?
        /// The last HELLO a DEALER sent, sent again after every reconnection.
        var announcement: [UInt8]?
    }

    private let context: ZMQContext
    private let socket: UnsafeMutableRawPointer
    private let wakeReceiver: UnsafeMutableRawPointer
    /// The PAIR end of `zmq_socket_monitor`, or `nil` where there is no handshake to watch (inproc).
    private let monitor: UnsafeMutableRawPointer?
    private let role: Role
    private let description: String
    let state: Mutex<State>
    private let exited = DispatchGroup()
    /// The I/O thread's identity while it runs (so `close` never waits on itself).
    private let ioThread = Mutex<ObjectIdentifier?>(nil)

    /// Wraps already configured sockets and starts the I/O thread.
    /// - Parameters:
    ///   - context: The context that owns the sockets (kept alive until they are closed).
    ///   - socket: The bound or connected main socket.
    ///   - name: A name for the thread and for error messages.
    ///   - role: How to frame messages and where to deliver them.
    ///   - failure: The error code to report if the wake-up pair cannot be set up.
    ///   - monitor: The connected PAIR end of the socket's monitor (``ZMQ/attachMonitor(_:context:)``,
    ///     attached before the socket binds or connects so no handshake is missed), or `nil`.
    /// - Throws: `TransportError` if the wake-up pair cannot be created; `socket` is then closed.
    init(
        context: ZMQContext, socket: UnsafeMutableRawPointer, name: String, role: Role, failure: TransportError.Code,
        monitor: UnsafeMutableRawPointer?
    ) throws(TransportError) {
        let wakeEndpoint = "inproc://fedarena-wake-\(UUID().uuidString)"
        guard let receiver = zmq_socket(context.handle, ZMQ_PAIR) else {
            let reason = ZMQ.lastErrorDescription()
            if let monitor { ZMQ.close(monitor) }
            ZMQ.close(socket)
            throw TransportError(failure, "\(name): cannot create the wake-up socket: \(reason)")
        }
        guard zmq_bind(receiver, wakeEndpoint) == 0, let waker = zmq_socket(context.handle, ZMQ_PAIR) else {
            let reason = ZMQ.lastErrorDescription()
            ZMQ.close(receiver)
            if let monitor { ZMQ.close(monitor) }
            ZMQ.close(socket)
            throw TransportError(failure, "\(name): cannot bind the wake-up socket: \(reason)")
        }
        ZMQ.setOption(receiver, ZMQ_LINGER, Int32(0))
        ZMQ.setOption(waker, ZMQ_LINGER, Int32(0))
        guard zmq_connect(waker, wakeEndpoint) == 0 else {
            let reason = ZMQ.lastErrorDescription()
            ZMQ.close(waker)
            ZMQ.close(receiver)
            if let monitor { ZMQ.close(monitor) }
            ZMQ.close(socket)
            throw TransportError(failure, "\(name): cannot connect the wake-up socket: \(reason)")
        }
        self.context = context
        self.socket = socket
        self.wakeReceiver = receiver
        self.monitor = monitor
        self.role = role
        self.description = name
        // Without a monitor (inproc) there is no handshake: the connection counts as live.
        self.state = Mutex(State(waker: waker, liveConnections: monitor == nil ? 1 : 0))

        exited.enter()
        let thread = Thread { [self] in
            // Named from inside: on Linux, a name set before `start` does not reach the OS thread.
            switch role {
            case .router: Thread.current.name = "fedarena-router"
            case .dealer: Thread.current.name = "fedarena-dealer"
            }
            run()
        }
        ioThread.withLock { $0 = ObjectIdentifier(thread) }
        thread.start()
    }

    // MARK: Any thread

    /// Enqueues a message and wakes the I/O thread; never blocks on the network.
    func send(_ payload: [UInt8], to peer: [UInt8]?) throws(TransportError) {
        let result: TransportError? = state.withLock { state in
            if state.closed { return TransportError(.closed, "\(description) is closed") }
            if let peer, !state.knownPeers.contains(peer) {
                return TransportError(.unknownPeer, "\(description): \(PeerID(peer)) is not connected (never sent a message, or gone)")
            }
            if peer == nil, Self.isHello(payload) { state.announcement = payload }
            let wasEmpty = state.queue.isEmpty
            state.queue.append(Outbound(peer: peer, payload: payload))
            if wasEmpty, let waker = state.waker {
                // EAGAIN only if wake frames are already pending: the thread is awake anyway.
                _ = zmq_send(waker, nil, 0, ZMQ_DONTWAIT)
            }
            return nil
        }
        if let result { throw result }
    }

    /// Enqueues `payload` for every known peer; returns how many.
    func broadcast(_ payload: [UInt8]) -> Int {
        state.withLock { state in
            guard !state.closed else { return 0 }
            let wasEmpty = state.queue.isEmpty
            for peer in state.knownPeers.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                state.queue.append(Outbound(peer: peer, payload: payload))
            }
            if wasEmpty, !state.knownPeers.isEmpty, let waker = state.waker { _ = zmq_send(waker, nil, 0, ZMQ_DONTWAIT) }
            return state.knownPeers.count
        }
    }

    var statistics: ZMQTransportStatistics { state.withLock { $0.statistics } }

    /// The connection's state as the monitor saw it.
    var connectionStatus: ZMQConnectionStatus {
        state.withLock { state in
            ZMQConnectionStatus(
                isConnected: state.liveConnections > 0,
                silence: state.liveConnections > 0 ? .zero : state.lastContact.duration(to: .now),
                lastFailure: state.lastFailure)
        }
    }


    /// Stops the I/O thread (which sends what is queued, closes the sockets and finishes the
    /// inbound stream) and waits up to two seconds for it. Idempotent.
    func close() {
        state.withLock { state in
            guard !state.closed else { return }
            state.closed = true
            if let waker = state.waker { _ = zmq_send(waker, nil, 0, ZMQ_DONTWAIT) }
        }
        let current = ObjectIdentifier(Thread.current)
        let isIOThread = ioThread.withLock { $0 == current }
        if !isIOThread { _ = exited.wait(timeout: .now() + 2) }
    }

    // MARK: I/O thread only

    private func run() {
        var items = [
            zmq_pollitem_t(socket: socket, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0),
            zmq_pollitem_t(socket: wakeReceiver, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0),
        ]
        if let monitor { items.append(zmq_pollitem_t(socket: monitor, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)) }
        // On the heap: a zmq_msg_t may point into itself, so it must not move between calls.
        let message = UnsafeMutablePointer<zmq_msg_t>.allocate(capacity: 1)
        zmq_msg_init(message)
        defer {
            zmq_msg_close(message)
            message.deallocate()
        }
        while true {
            let ready = zmq_poll(&items, Int32(items.count), -1)
            if ready < 0 {
                if zmq_errno() == EINTR { continue }
                break  // ETERM or a broken socket: stop.
            }
            if items[1].revents & Int16(ZMQ_POLLIN) != 0 {
                while zmq_msg_recv(message, wakeReceiver, ZMQ_DONTWAIT) >= 0 {}
            }
            if items.count > 2, items[2].revents & Int16(ZMQ_POLLIN) != 0 { readMonitor(message) }
            let (batch, closed) = state.withLock { state in
                let batch = state.queue
                state.queue = []
                return (batch, state.closed)
            }
            if !batch.isEmpty { transmit(batch) }
            if items[0].revents & Int16(ZMQ_POLLIN) != 0 { receive(message) }
            if closed { break }
        }
        shutDown()
    }

    /// Sends a batch; drops (and counts) what libzmq refuses without blocking.
    private func transmit(_ batch: [Outbound]) {
        var sent = 0
        var dropped = 0
        var unreachable: [[UInt8]] = []
        for item in batch {
            if let peer = item.peer {
                let rc = peer.withUnsafeBytes { zmq_send(socket, $0.baseAddress, $0.count, ZMQ_SNDMORE | ZMQ_DONTWAIT) }
                if rc < 0 {
                    // With ZMQ_ROUTER_MANDATORY: EHOSTUNREACH (peer gone) or EAGAIN (its queue is full).
                    if zmq_errno() == EHOSTUNREACH { unreachable.append(peer) }
                    dropped += 1
                    continue
                }
            }
            let rc = item.payload.withUnsafeBytes { zmq_send(socket, $0.baseAddress, $0.count, ZMQ_DONTWAIT) }
            if rc < 0 { dropped += 1 } else { sent += 1 }
        }
        state.withLock { state in
            state.statistics.sent += sent
            state.statistics.droppedOutbound += dropped
            for peer in unreachable { state.knownPeers.remove(peer) }
        }
    }

    /// Receives up to 1,024 messages without blocking and delivers the well-formed ones.
    ///
    /// Senders become known *before* their messages are yielded, so a reply sent as soon as a
    /// message is seen never races with the bookkeeping.
    private func receive(_ message: UnsafeMutablePointer<zmq_msg_t>) {
        var routed: [InboundMessage] = []
        var plain: [[UInt8]] = []
        var dropped = 0
        for _ in 0..<1_024 {
            var frames: [[UInt8]] = []
            var frameCount = 0
            var more = true
            var userID: String?
            while more {
                guard zmq_msg_recv(message, socket, ZMQ_DONTWAIT) >= 0 else { break }
                frameCount += 1
                // Keep the first two frames only; a longer message is dropped anyway.
                if frameCount <= 2 {
                    let size = zmq_msg_size(message)
                    if size > 0, let data = zmq_msg_data(message) {
                        frames.append([UInt8](UnsafeRawBufferPointer(start: data, count: size)))
                    } else {
                        frames.append([])
                    }
                }
                // The ZAP user id of the connection, attached by libzmq to every frame it delivers.
                if frameCount == 2, let text = zmq_msg_gets(message, "User-Id") { userID = String(cString: text) }
                more = zmq_msg_more(message) != 0
            }
            guard frameCount > 0 else { break }
            switch role {
            case .router:
                // Expected: [routing id, payload]. An empty payload is delivered (the codec
                // rejects it and the coordinator can answer ERROR); any other layout is dropped.
                if frameCount == 2 {
                    let identity = userID.flatMap(ZAPHandler.identity(fromUserID:))
                    routed.append(InboundMessage(peer: PeerID(frames[0]), payload: frames[1], authenticated: identity))
                } else {
                    dropped += 1
                }
            case .dealer:
                if frameCount == 1 { plain.append(frames[0]) } else { dropped += 1 }
            }
        }
        guard routed.count + plain.count + dropped > 0 else { return }
        state.withLock { state in
            state.statistics.delivered += routed.count + plain.count
            state.statistics.droppedInbound += dropped
            state.lastContact = .now
            for message in routed { state.knownPeers.insert(message.peer.bytes) }
        }
        switch role {
        case .router(let continuation): for message in routed { continuation.yield(message) }
        case .dealer(let continuation): for payload in plain { continuation.yield(payload) }
        }
    }

    /// Reads the monitor's events: `[u16 event, u32 value]` then the endpoint, per event.
    private func readMonitor(_ message: UnsafeMutablePointer<zmq_msg_t>) {
        guard let monitor else { return }
        while true {
            guard zmq_msg_recv(message, monitor, ZMQ_DONTWAIT) >= 0 else { return }
            var event: UInt16 = 0
            var value: UInt32 = 0
            if zmq_msg_size(message) >= 6, let data = zmq_msg_data(message) {
                let raw = UnsafeRawBufferPointer(start: data, count: 6)
                event = raw.loadUnaligned(fromByteOffset: 0, as: UInt16.self)
                value = raw.loadUnaligned(fromByteOffset: 2, as: UInt32.self)
            }
            while zmq_msg_more(message) != 0, zmq_msg_recv(message, monitor, ZMQ_DONTWAIT) >= 0 {}
            if let announcement = record(event: Int32(event), value: value) {
                transmit([Outbound(peer: nil, payload: announcement)])
                state.withLock { $0.statistics.reannouncements += 1 }
            }
        }
    }

    /// Whether `payload` is an encoded HELLO (the magic, then the HELLO type byte).
    static func isHello(_ payload: [UInt8]) -> Bool {
        payload.count >= WireCodec.headerSize && Array(payload[0..<4]) == WireCodec.magic && payload[6] == WireMessage.Kind.hello.rawValue
    }

    /// Books a monitor event; returns the HELLO to send again when a DEALER has just
    /// reconnected (a handshake after its first).
    private func record(event: Int32, value: UInt32) -> [UInt8]? {
        state.withLock { state -> [UInt8]? in
            switch event {
            case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
                state.statistics.handshakes += 1
                state.liveConnections += 1
                state.lastContact = .now
                state.lastFailure = nil
                if case .dealer = role, state.statistics.handshakes > 1 { return state.announcement }
            case ZMQ_EVENT_DISCONNECTED:
                state.statistics.disconnects += 1
                // A disconnect also follows a failed handshake, which never counted as live.
                if state.liveConnections > 0 {
                    state.liveConnections -= 1
                    if state.liveConnections == 0 { state.lastContact = .now }
                }
            case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
                state.statistics.authenticationFailures += 1
                state.lastFailure = switch role {
                case .dealer: "the server refused this client's key (ZAP status \(value)): is this key in its allow-list?"
                case .router: "refused a client key (ZAP status \(value))"
                }
            case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
                state.statistics.protocolFailures += 1
                state.lastFailure = "security handshake failed (ZMTP error 0x\(String(value, radix: 16))): "
                    + "one side uses CURVE and the other does not, or the server key is wrong"
            default:
                break
            }
            return nil
        }
    }

    private func shutDown() {
        state.withLock { state in
            state.closed = true
            if let waker = state.waker { ZMQ.close(waker) }
            state.waker = nil
            state.queue = []
            state.knownPeers = []
        }
        ZMQ.close(wakeReceiver)
        if let monitor {
            _ = zmq_socket_monitor(socket, nil, 0)
            ZMQ.close(monitor)
        }
        ZMQ.close(socket)
        switch role {
        case .router(let continuation): continuation.finish()
        case .dealer(let continuation): continuation.finish()
        }
        ioThread.withLock { $0 = nil }
        exited.leave()
    }
}
