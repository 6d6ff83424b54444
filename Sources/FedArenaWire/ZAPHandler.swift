import CZeroMQ
import FedArenaCore
import Foundation
import Synchronization

/// One refused CURVE handshake, as a server's ZAP handler saw it.
public struct ZMQRefusal: Sendable, Equatable, CustomStringConvertible {
    /// The client's public key (Z85), or `nil` when the request carried none.
    public var publicKey: String?
    /// The client's address as libzmq reports it (an IP address for tcp, empty for ipc).
    public var address: String
    /// Why it was refused.
    public var reason: String

    public var description: String { "\(publicKey ?? "no key") from \(address.isEmpty ? "a local socket" : address): \(reason)" }
}

/// What a CURVE server's ZAP handler decided, for logs, records and tests.
public struct ZMQAuthenticationStatistics: Sendable, Equatable {
    /// Handshakes whose key the allow-list holds.
    public var admitted = 0
    /// Handshakes refused (unknown key, wrong mechanism).
    public var refused = 0
    /// The first refusals, at most ``ZAPHandler/keptRefusals`` (later ones are only counted).
    public var firstRefusals: [ZMQRefusal] = []

    /// All zero.
    public init() {}
}

/// A ZeroMQ Authentication Protocol handler (ZAP, ZeroMQ RFC 27) for one context.
///
/// libzmq asks the socket bound at `inproc://zeromq.zap.01` of a context whether to admit each
/// CURVE handshake. This handler owns that socket on its own thread and answers from the
/// allow-list of the server that asked (each CURVE server registers its list under its own
/// ZAP domain, so servers with different lists can share a context). An admitted connection
/// gets a ZAP user id naming its identity, which libzmq attaches to every message of the
/// connection as the `User-Id` property; ``identity(fromUserID:)`` reads it back.
///
/// The handler is started before any CURVE server binds (libzmq admits every key when no
/// handler is bound), and stops when the context is terminated.
final class ZAPHandler: @unchecked Sendable {
    /// How many refusals each domain keeps verbatim.
    static let keptRefusals = 16

    private struct Domain {
        var allowList: CurveAllowList
        var statistics = ZMQAuthenticationStatistics()
    }

    private struct State {
        var domains: [String: Domain] = [:]
        var nextDomain = 1
    }

    /// The REP socket; touched only by the handler thread once it has started.
    private let socket: UnsafeMutableRawPointer
    private let state = Mutex(State())

    /// Binds `inproc://zeromq.zap.01` in `context` and starts the thread.
    /// - Throws: `TransportError` `.bindFailed` when the endpoint is taken (another ZAP handler
    ///   in the same context) or the socket cannot be made.
    init(context: UnsafeMutableRawPointer) throws(TransportError) {
        guard let socket = zmq_socket(context, ZMQ_REP) else {
            throw TransportError(.bindFailed, "cannot create the ZAP handler socket: \(ZMQ.lastErrorDescription())")
        }
        ZMQ.setOption(socket, ZMQ_LINGER, Int32(0))
        guard zmq_bind(socket, "inproc://zeromq.zap.01") == 0 else {
            let reason = ZMQ.lastErrorDescription()
            ZMQ.close(socket)
            throw TransportError(.bindFailed, "cannot bind the ZAP handler at inproc://zeromq.zap.01: \(reason)")
        }
        self.socket = socket
        let thread = Thread { [self] in
            Thread.current.name = "fedarena-zap"
            serve()
        }
        thread.start()
    }

    /// Registers a server's allow-list.
    /// - Parameter allowList: Who the server admits.
    /// - Returns: The ZAP domain to set on the server socket (`ZMQ_ZAP_DOMAIN`).
    func register(_ allowList: CurveAllowList) -> String {
        state.withLock { state in
            let domain = "fedarena-\(state.nextDomain)"
            state.nextDomain += 1
            state.domains[domain] = Domain(allowList: allowList)
            return domain
        }
    }

    /// Forgets a domain (its server closed); later requests for it are refused.
    func unregister(_ domain: String) {
        _ = state.withLock { $0.domains.removeValue(forKey: domain) }
    }

    /// The decisions taken for `domain` so far.
    func statistics(of domain: String) -> ZMQAuthenticationStatistics {
        state.withLock { $0.domains[domain]?.statistics ?? ZMQAuthenticationStatistics() }
    }

    /// The ZAP user id of an identity.
    static func userID(of identity: AuthenticatedPeer) -> String {
        switch identity {
        case .clientProcess(let index): "client-process:\(index)"
        case .coordinator: "coordinator"
        }
    }

    /// The identity a ZAP user id names, or `nil` for any other text.
    static func identity(fromUserID text: String) -> AuthenticatedPeer? {
        if text == "coordinator" { return .coordinator }
        let prefix = "client-process:"
        guard text.hasPrefix(prefix), let index = Int(text.dropFirst(prefix.count)), index >= 0 else { return nil }
        return .clientProcess(index)
    }

    // MARK: Handler thread

    private func serve() {
        let message = UnsafeMutablePointer<zmq_msg_t>.allocate(capacity: 1)
        zmq_msg_init(message)
        defer {
            zmq_msg_close(message)
            message.deallocate()
        }
        while true {
            var frames: [[UInt8]] = []
            var more = true
            var failed = false
            while more {
                if zmq_msg_recv(message, socket, 0) < 0 {
                    if zmq_errno() == EINTR { continue }
                    failed = true  // ETERM: the context is ending.
                    break
                }
                if frames.count < 16 {
                    let size = zmq_msg_size(message)
                    frames.append(size > 0 ? [UInt8](UnsafeRawBufferPointer(start: zmq_msg_data(message), count: size)) : [])
                }
                more = zmq_msg_more(message) != 0
            }
            if failed { break }
            let reply = answer(frames)
            for (position, frame) in reply.enumerated() {
                let flags = position < reply.count - 1 ? ZMQ_SNDMORE : 0
                _ = frame.withUnsafeBytes { zmq_send(socket, $0.baseAddress, $0.count, flags) }
            }
        }
        ZMQ.close(socket)
    }

    /// The six reply frames for one request: version, request id, status, text, user id, metadata.
    private func answer(_ frames: [[UInt8]]) -> [[UInt8]] {
        func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
        guard frames.count >= 6, text(frames[0]) == "1.0" else {
            let requestID = frames.count > 1 ? frames[1] : []
            return [Array("1.0".utf8), requestID, Array("500".utf8), Array("malformed ZAP request".utf8), [], []]
        }
        let requestID = frames[1]
        let domain = text(frames[2])
        let address = text(frames[3])
        let mechanism = text(frames[5])
        func refuse(_ key: String?, _ reason: String) -> [[UInt8]] {
            state.withLock { state in
                guard state.domains[domain] != nil else { return }
                state.domains[domain]!.statistics.refused += 1
                if state.domains[domain]!.statistics.firstRefusals.count < Self.keptRefusals {
                    state.domains[domain]!.statistics.firstRefusals.append(ZMQRefusal(publicKey: key, address: address, reason: reason))
                }
            }
            return [Array("1.0".utf8), requestID, Array("400".utf8), Array(reason.utf8), [], []]
        }
        guard mechanism == "CURVE", frames.count >= 7 else {
            return refuse(nil, "mechanism \(mechanism) is not admitted; this server requires CURVE")
        }
        let key: CurvePublicKey
        do {
            key = try CurvePublicKey(bytes: frames[6])
        } catch {
            return refuse(nil, "malformed CURVE credentials: \(error.message)")
        }
        let identity: AuthenticatedPeer? = state.withLock { state in
            guard let found = state.domains[domain]?.allowList.identity(of: key) else { return nil }
            state.domains[domain]!.statistics.admitted += 1
            return found
        }
        guard let identity else {
            return refuse(key.z85, "public key not in the allow-list")
        }
        return [Array("1.0".utf8), requestID, Array("200".utf8), Array("OK".utf8), Array(Self.userID(of: identity).utf8), []]
    }
}
