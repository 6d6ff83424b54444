import CZeroMQ
import Foundation

/// A ZeroMQ context: the I/O threads and the registry of `inproc://` endpoints of one process.
///
/// A context is thread-safe (sockets are not: each transport confines its socket to its own
/// thread). Create one per process and share it; transports keep it alive, and it is
/// terminated (`zmq_ctx_term`) when the last transport and the last reference are gone.
/// Two transports talk over `inproc://` only through the same context.
public final class ZMQContext: @unchecked Sendable {
    /// The `void *` returned by `zmq_ctx_new`; immutable, and libzmq makes it thread-safe.
    let handle: UnsafeMutableRawPointer

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

    /// Closes a socket, ignoring errors (closing never blocks: lingering happens in libzmq's reaper).
    static func close(_ socket: UnsafeMutableRawPointer) {
        _ = zmq_close(socket)
    }
}
