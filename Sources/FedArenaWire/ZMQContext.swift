import CZeroMQ
import FedArenaCore
import Foundation
import Synchronization

/// A ZeroMQ context: the I/O threads and the registry of `inproc://` endpoints of one process.
///
/// A context is thread-safe (sockets are not: each transport confines its socket to its own
/// thread). Create one per process and share it; transports keep it alive, and it is
/// terminated (`zmq_ctx_term`) when the last transport and the last reference are gone.
/// Two transports talk over `inproc://` only through the same context.
public final class ZMQContext: @unchecked Sendable {
    /// The `void *` returned by `zmq_ctx_new`; immutable, and libzmq makes it thread-safe.
    let handle: UnsafeMutableRawPointer
    /// The context's ZAP handler, started by the first CURVE server.
    private let zap = Mutex<ZAPHandler?>(nil)

    /// Creates a context.
    ///
    /// `zmq_ctx_new` fails only when the process is out of file descriptors or threads; that is
    /// treated as a fatal precondition failure rather than an error every caller must handle.
    public init() {
        guard let handle = zmq_ctx_new() else {
            preconditionFailure("zmq_ctx_new failed: \(ZMQ.lastErrorDescription())")
        }
        self.handle = handle
    }

    /// The context's ZAP handler, started on first use (before the first CURVE server binds).
    /// - Throws: `TransportError` `.bindFailed` when it cannot bind `inproc://zeromq.zap.01`.
    func zapHandler() throws(TransportError) -> ZAPHandler {
        let result: Result<ZAPHandler, TransportError> = zap.withLock { zap in
            if let zap { return .success(zap) }
            do throws(TransportError) {
                let handler = try ZAPHandler(context: handle)
                zap = handler
                return .success(handler)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    deinit {
        // Blocks until every socket of this context is closed; the transports close theirs
        // before they release the context.
        while zmq_ctx_term(handle) != 0 && zmq_errno() == EINTR {}
    }

    /// The libzmq version as `(major, minor, patch)`.
    public static var libraryVersion: (major: Int, minor: Int, patch: Int) {
        var major: Int32 = 0
        var minor: Int32 = 0
        var patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return (Int(major), Int(minor), Int(patch))
    }
}

/// Small helpers around the libzmq C API (internal).
enum ZMQ {
    /// `zmq_strerror(zmq_errno())`.
    static func lastErrorDescription() -> String { errorDescription(zmq_errno()) }

    /// `zmq_strerror(code)`.
    static func errorDescription(_ code: Int32) -> String {
        guard let text = zmq_strerror(code) else { return "errno \(code)" }
        return String(cString: text)
    }

    /// Sets an `int` socket option.
    @discardableResult
    static func setOption(_ socket: UnsafeMutableRawPointer, _ option: Int32, _ value: Int32) -> Bool {
        var value = value
        return zmq_setsockopt(socket, option, &value, MemoryLayout<Int32>.size) == 0
    }

    /// Sets an `int64_t` socket option.
    @discardableResult
    static func setOption(_ socket: UnsafeMutableRawPointer, _ option: Int32, _ value: Int64) -> Bool {
        var value = value
        return zmq_setsockopt(socket, option, &value, MemoryLayout<Int64>.size) == 0
    }

    /// Reads a string socket option (such as `ZMQ_LAST_ENDPOINT`).
    static func stringOption(_ socket: UnsafeMutableRawPointer, _ option: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: 1024)
        var size = buffer.count
        guard zmq_getsockopt(socket, option, &buffer, &size) == 0 else { return nil }
        let bytes = buffer.prefix(max(0, size)).prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Starts `zmq_socket_monitor` on `socket` for handshake and disconnect events and connects
    /// a PAIR to it. Call before bind or connect, so that no event is missed.
    /// - Returns: The PAIR, or `nil` (and an error description) when the monitor cannot start.
    static func attachMonitor(_ socket: UnsafeMutableRawPointer, context: ZMQContext) -> Result<UnsafeMutableRawPointer, TransportError> {
        let endpoint = "inproc://fedarena-monitor-\(UUID().uuidString)"
        let events = ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
            | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_DISCONNECTED
        guard zmq_socket_monitor(socket, endpoint, events) == 0, let pair = zmq_socket(context.handle, ZMQ_PAIR) else {
            return .failure(TransportError(.bindFailed, "cannot monitor the socket: \(lastErrorDescription())"))
        }
        setOption(pair, ZMQ_LINGER, Int32(0))
        guard zmq_connect(pair, endpoint) == 0 else {
            let reason = lastErrorDescription()
            close(pair)
            _ = zmq_socket_monitor(socket, nil, 0)
            return .failure(TransportError(.bindFailed, "cannot connect the monitor socket: \(reason)"))
        }
        return .success(pair)
    }

    /// The bytes a CurveZMQ MESSAGE command adds to a payload (RFC 26).
    static let curveMessageOverhead = 33

    /// Applies the limits, queue sizes and heartbeats of `options` (before bind or connect).
    static func configure(_ socket: UnsafeMutableRawPointer, _ options: ZMQTransportOptions) {
        setOption(socket, ZMQ_LINGER, options.lingerMilliseconds)
        setOption(socket, ZMQ_SNDHWM, options.sendHighWaterMark)
        setOption(socket, ZMQ_RCVHWM, options.receiveHighWaterMark)
        // libzmq checks the frame as it travels: with CURVE, a MESSAGE command wraps the payload
        // in 33 bytes ("\u{7}MESSAGE", an 8-byte nonce, a flags byte and a 16-byte MAC).
        let overhead = options.security.isCurve ? curveMessageOverhead : 0
        setOption(socket, ZMQ_MAXMSGSIZE, options.maxMessageBytes.map { Int64($0 + overhead) } ?? -1)
        if let interval = options.heartbeatIntervalMilliseconds {
            setOption(socket, ZMQ_HEARTBEAT_IVL, interval)
            setOption(socket, ZMQ_HEARTBEAT_TIMEOUT, options.heartbeatTimeoutMilliseconds)
            // The TTL travels to the peer in deciseconds; libzmq caps it at 6553.5 s.
            setOption(socket, ZMQ_HEARTBEAT_TTL, min(options.heartbeatTimeoutMilliseconds, 6_553_500) / 100 * 100)
        }
    }

    /// Makes `socket` a CURVE server authenticated through ZAP `domain`.
    static func setCurveServer(_ socket: UnsafeMutableRawPointer, keyPair: CurveKeyPair, domain: String) -> Bool {
        guard setOption(socket, ZMQ_CURVE_SERVER, Int32(1)),
              setBytes(socket, ZMQ_CURVE_SECRETKEY, keyPair.secretBytes),
              zmq_setsockopt(socket, ZMQ_ZAP_DOMAIN, domain, domain.utf8.count) == 0
        else { return false }
        return true
    }

    /// Makes `socket` a CURVE client of the server whose public key is `serverKey`.
    static func setCurveClient(_ socket: UnsafeMutableRawPointer, keyPair: CurveKeyPair, serverKey: CurvePublicKey) -> Bool {
        setBytes(socket, ZMQ_CURVE_SERVERKEY, serverKey.bytes)
            && setBytes(socket, ZMQ_CURVE_PUBLICKEY, keyPair.publicKey.bytes)
            && setBytes(socket, ZMQ_CURVE_SECRETKEY, keyPair.secretBytes)
    }

    /// Sets a binary socket option (a 32-byte key).
    private static func setBytes(_ socket: UnsafeMutableRawPointer, _ option: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.count == 32 && bytes.withUnsafeBytes { zmq_setsockopt(socket, option, $0.baseAddress, 32) } == 0
    }

    /// Closes a socket, ignoring errors (closing never blocks: lingering happens in libzmq's reaper).
    static func close(_ socket: UnsafeMutableRawPointer) {
        _ = zmq_close(socket)
    }
}
