import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A TCP relay that injects network faults between two hosts: it accepts connections on one
/// address, opens one to the target for each, and forwards bytes both ways with the delays,
/// stalls and cuts of a ``FaultSchedule``.
///
/// It stands in for `tc netem` where the kernel lacks it (`Specified qdisc kind is unknown`):
/// put it between the hosts (a client connects to the relay, the relay to the coordinator) and
/// a run sees a slow link that sometimes stops and sometimes resets. Loss shows as it does on
/// TCP: as delay and stalls (TCP retransmits), and as cut connections. `fedarena relay` runs one.
///
/// One thread accepts (``run()``), one thread per connection forwards; each decides from the
/// clock alone (the schedule is a function of the time since the relay started), so nothing but
/// the counters is shared, under a mutex.
public final class FaultRelay: Sendable {
    /// An IPv4 address and port.
    public struct Address: Sendable, Equatable, CustomStringConvertible {
        /// Dotted-quad IPv4 address.
        public var host: String
        /// TCP port (0 to listen on any free port).
        public var port: Int

        /// Parses `HOST:PORT`, e.g. `10.0.0.1:5555` (a `tcp://` prefix is allowed).
        /// - Parameter text: The address.
        /// - Throws: ``FaultRelayError`` `.invalidAddress` naming the text.
        public init(parsing text: String) throws(FaultRelayError) {
            let bare = text.hasPrefix("tcp://") ? String(text.dropFirst(6)) : text
            guard let colon = bare.lastIndex(of: ":"), let port = Int(bare[bare.index(after: colon)...]), (0...65_535).contains(port) else {
                throw FaultRelayError(.invalidAddress, "'\(text)' is not IPv4:PORT (e.g. 127.0.0.1:5555)")
            }
            let host = String(bare[..<colon])
            var probe = in_addr()
            guard inet_pton(AF_INET, host, &probe) == 1 else {
                throw FaultRelayError(.invalidAddress, "'\(host)' in '\(text)' is not an IPv4 address")
            }
            self.host = host
            self.port = port
        }

        public var description: String { "\(host):\(port)" }

        fileprivate var socketAddress: sockaddr_in {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            _ = inet_pton(AF_INET, host, &address.sin_addr)
            return address
        }
    }

    /// What the relay did.
    public struct Statistics: Sendable, Equatable {
        /// Connections accepted.
        public var connections = 0
        /// Connections the relay closed on a cut.
        public var cuts = 0
        /// Accepted connections for which the target could not be reached.
        public var failedConnects = 0
        /// Bytes written to either side.
        public var bytesForwarded = 0
    }

    /// The address the relay listens on (the port read back when 0 was asked).
    public let listening: Address
    /// Where connections are forwarded.
    public let target: Address
    /// The faults.
    public let schedule: FaultSchedule
    private let report: @Sendable (String) -> Void
    private let listener: Int32
    private let started = ContinuousClock.now
    private let state = Mutex<(statistics: Statistics, closed: Bool)>((Statistics(), false))

    /// Bytes held per direction before the relay stops reading that side (back-pressure).
    private static let queueLimit = 64 << 20

    /// Binds and listens; call ``run()`` to accept.
    /// - Parameters:
    ///   - listen: Where to listen (port 0: any free port, see ``listening``).
    ///   - target: Where to forward.
    ///   - schedule: The faults.
    ///   - report: Receives one line per event (a cut, an unreachable target).
    /// - Throws: ``FaultRelayError`` `.listenFailed` naming the address and the system's reason.
    public init(listen: Address, to target: Address, schedule: FaultSchedule, report: @escaping @Sendable (String) -> Void) throws(FaultRelayError) {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else { throw FaultRelayError(.listenFailed, "cannot create a socket for \(listen): \(Self.systemError())") }
        var yes: Int32 = 1
        setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = listen.socketAddress
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Glibc.listen(socket, 64) == 0 else {
            let reason = Self.systemError()
            Glibc.close(socket)
            throw FaultRelayError(.listenFailed, "cannot listen on \(listen): \(reason)")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        var resolved = listen
        resolved.port = Int(UInt16(bigEndian: actual.sin_port))
        self.listening = resolved
        self.target = target
        self.schedule = schedule
        self.report = report
        self.listener = socket
    }

    deinit { Glibc.close(listener) }

    /// Counters so far.
    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// Accepts connections until ``close()``, each forwarded by a thread of its own. Blocks:
    /// call it from a thread of its own (or a command's main thread), never from a task.
    public func run() {
        var next = 0
        while true {
            let connection = accept(listener, nil, nil)
            if connection >= 0 { _ = fcntl(connection, F_SETFD, FD_CLOEXEC) }
            if connection < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return  // closed (EINVAL after shutdown) or broken
            }
            if state.withLock({ $0.closed }) {
                Glibc.close(connection)
                return
            }
            next += 1
            let id = next
            state.withLock { $0.statistics.connections += 1 }
            let thread = Thread { [self] in forward(connection, id: id) }
            thread.name = "fedarena-relay-\(id)"
            thread.start()
        }
    }

    /// Stops accepting; open connections end within a second. Idempotent.
    public func close() {
        let first = state.withLock { state -> Bool in
            defer { state.closed = true }
            return !state.closed
        }
        if first { shutdown(listener, Int32(SHUT_RDWR)) }
    }

    /// Milliseconds since the relay started.
    private func elapsed() -> Int {
        let (seconds, attoseconds) = started.duration(to: .now).components
        return Int(seconds) * 1_000 + Int(attoseconds / 1_000_000_000_000_000)
    }

    private static func systemError() -> String { String(cString: strerror(errno)) }

    /// Bytes read from one side, due on the other side at a time.
    private struct Chunk {
        var due: Int
        var bytes: [UInt8]
    }

    /// One direction's backlog.
    private struct Backlog {
        var chunks: [Chunk] = []
        var head = 0
        var bytes = 0

        var firstDue: Int? { head < chunks.count ? chunks[head].due : nil }

        mutating func append(_ chunk: Chunk) {
            chunks.append(chunk)
            bytes += chunk.bytes.count
        }

        /// Writes every chunk due by `now` to `socket`; returns the bytes written, or `nil` if the socket failed.
        mutating func flush(to socket: Int32, now: Int) -> Int? {
            var written = 0
            while head < chunks.count, chunks[head].due <= now {
                let ok = chunks[head].bytes.withUnsafeBytes { raw -> Bool in
                    var offset = 0
                    while offset < raw.count {
                        let sent = send(socket, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                        if sent < 0 {
                            if errno == EINTR { continue }
                            return false
                        }
                        offset += sent
                    }
                    return true
                }
                guard ok else { return nil }
                written += chunks[head].bytes.count
                bytes -= chunks[head].bytes.count
                head += 1
            }
            if head > 256, head * 2 > chunks.count {
                chunks.removeFirst(head)
                head = 0
            }
            return written
        }
    }

    /// Forwards one accepted connection until either side closes, a cut, or ``close()``.
    private func forward(_ downstream: Int32, id: Int) {
        let generation = schedule.cutGeneration(at: elapsed())
        let upstream = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer {
            Glibc.close(downstream)
            if upstream >= 0 { Glibc.close(upstream) }
        }
        var address = target.socketAddress
        let connected = upstream >= 0 && withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
        guard connected else {
            report("connection \(id): cannot reach \(target): \(Self.systemError())")
            state.withLock { $0.statistics.failedConnects += 1 }
            return
        }
        var yes: Int32 = 1
        for socket in [downstream, upstream] { setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size)) }
        var toTarget = Backlog()
        var toClient = Backlog()
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let now = elapsed()
            if schedule.cutGeneration(at: now) > generation {
                state.withLock { $0.statistics.cuts += 1 }
                report("cut connection \(id) at \(now) ms")
                return
            }
            if state.withLock({ $0.closed }) { return }
            let stalled = schedule.isStalled(at: now)
            if !stalled {
                guard let up = toTarget.flush(to: upstream, now: now), let down = toClient.flush(to: downstream, now: now) else { return }
                if up + down > 0 { state.withLock { $0.statistics.bytesForwarded += up + down } }
            }
            let readDown = toTarget.bytes < Self.queueLimit
            let readUp = toClient.bytes < Self.queueLimit
            var sockets = [
                pollfd(fd: downstream, events: readDown ? Int16(POLLIN) : 0, revents: 0),
                pollfd(fd: upstream, events: readUp ? Int16(POLLIN) : 0, revents: 0),
            ]
            var wake = [schedule.nextChange(after: now), now + 1_000]
            if !stalled { wake += [toTarget.firstDue, toClient.firstDue] }
            let timeout = max(0, (wake.compactMap { $0 }.min() ?? now + 1_000) - now)
            let ready = poll(&sockets, 2, Int32(timeout))
            if ready < 0 {
                if errno == EINTR { continue }
                return
            }
            let arrival = elapsed() + schedule.delayMilliseconds
            for (index, socket) in [downstream, upstream].enumerated() where sockets[index].revents != 0 {
                guard sockets[index].events != 0 else { return }  // hung up while we were not reading it
                let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
                if count < 0, errno == EINTR || errno == EAGAIN { continue }
                guard count > 0 else { return }  // closed or reset: end both sides
                let chunk = Chunk(due: arrival, bytes: Array(buffer[0..<count]))
                if index == 0 { toTarget.append(chunk) } else { toClient.append(chunk) }
            }
        }
    }
}
