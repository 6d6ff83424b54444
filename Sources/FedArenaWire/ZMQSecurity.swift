import FedArenaCore

/// How a ZeroMQ transport secures its socket.
///
/// With CURVE (CurveZMQ, ZeroMQ RFC 26, on Curve25519) every connection is encrypted and both
/// ends are authenticated: the client must know the server's public key, and the server's ZAP
/// handler (ZeroMQ RFC 27) admits only the public keys of its ``CurveAllowList``, binding each
/// one to an identity that every message of the connection then carries
/// (``FedArenaCore/InboundMessage/authenticated``).
///
/// CURVE applies to `tcp://` and `ipc://` endpoints. libzmq does not run security handshakes
/// over `inproc://`, so a CURVE transport refuses an `inproc://` endpoint rather than admit
/// unauthenticated peers.
public enum ZMQSecurity: Sendable, Equatable {
    /// No encryption, no authentication (local runs, tests).
    case plaintext
    /// A CURVE server (ROUTER): its key pair and who may connect.
    case curveServer(keyPair: CurveKeyPair, allowList: CurveAllowList)
    /// A CURVE client (DEALER): its key pair and the server's public key.
    case curveClient(keyPair: CurveKeyPair, serverKey: CurvePublicKey)

    /// Whether this is one of the CURVE cases.
    public var isCurve: Bool {
        if case .plaintext = self { false } else { true }
    }

    /// A short description for logs (never the secret key).
    public var summary: String {
        switch self {
        case .plaintext: "plaintext (no CURVE)"
        case .curveServer(let keyPair, let allowList):
            "CURVE server \(keyPair.publicKey.z85.prefix(8))..., \(allowList.entries.count) admitted keys"
        case .curveClient(let keyPair, let serverKey):
            "CURVE client \(keyPair.publicKey.z85.prefix(8))... of server \(serverKey.z85.prefix(8))..."
        }
    }

    /// The security of a client process's link to the adversary process: plaintext unless
    /// the scenario the coordinator sent has `transport.curve` on, then a CURVE client with
    /// this process's key pair and the adversary's public key from `transport.adversaryPublicKey`.
    /// - Parameters:
    ///   - transport: The scenario's transport section, as received in WELCOME.
    ///   - keyPair: This client process's key pair (the one it authenticates to the coordinator with).
    /// - Returns: The options' security for `ZMQClientTransport(context:endpoint:options:)`.
    /// - Throws: ``CurveKeyError`` `.missingEntry` when CURVE is on but this process has no key
    ///   pair or the scenario carries no adversary key; `.invalidKey` for a malformed key.
    public static func adversaryLink(transport: TransportConfig, keyPair: CurveKeyPair?) throws(CurveKeyError) -> ZMQSecurity {
        guard transport.curve == true else { return .plaintext }
        guard let keyPair else {
            throw CurveKeyError(.missingEntry, "the run uses CURVE but this client process has no key pair for the adversary link")
        }
        guard let text = transport.adversaryPublicKey else {
            throw CurveKeyError(.missingEntry, "the run uses CURVE but the coordinator sent no adversary public key (transport.adversaryPublicKey)")
        }
        return .curveClient(keyPair: keyPair, serverKey: try CurvePublicKey(z85: text))
    }

    /// Whether an endpoint can carry this security (CURVE needs a ZMTP handshake: tcp or ipc).
    static func supports(_ security: ZMQSecurity, endpoint: String) -> Bool {
        !(security.isCurve && endpoint.hasPrefix("inproc://"))
    }
}
