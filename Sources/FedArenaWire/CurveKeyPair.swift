import CZeroMQ

/// A CurveZMQ public key (Curve25519, RFC 7748), held as its 40-character Z85 text (ZeroMQ
/// RFC 32), the form key files and allow-lists store.
public struct CurvePublicKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The 40 Z85 characters.
    public let z85: String

    /// Checks and wraps a Z85 key.
    /// - Parameter z85: 40 characters of the Z85 alphabet encoding 32 bytes.
    /// - Throws: ``CurveKeyError`` `.invalidKey` naming the problem.
    public init(z85: String) throws(CurveKeyError) {
        bytes = try CurveKeyPair.decode(z85, what: "public key")
        self.z85 = z85
    }

    /// Wraps 32 raw key bytes (as a ZAP request carries them).
    /// - Parameter bytes: The key.
    /// - Throws: ``CurveKeyError`` `.invalidKey` unless there are 32 bytes.
    init(bytes: [UInt8]) throws(CurveKeyError) {
        guard bytes.count == 32 else { throw CurveKeyError(.invalidKey, "a CURVE key is 32 bytes, got \(bytes.count)") }
        var text = [CChar](repeating: 0, count: 41)
        guard zmq_z85_encode(&text, bytes, 32) != nil else {
            throw CurveKeyError(.invalidKey, "cannot Z85-encode a key: \(ZMQ.lastErrorDescription())")
        }
        self.bytes = bytes
        self.z85 = String(decoding: text.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The 32 key bytes.
    let bytes: [UInt8]

    public var description: String { z85 }

    public static func < (lhs: CurvePublicKey, rhs: CurvePublicKey) -> Bool { lhs.z85 < rhs.z85 }
}

/// A CurveZMQ key pair: a Curve25519 secret key and its public key, both as Z85 text.
///
/// Made with libzmq's `zmq_curve_keypair` (which draws from libsodium's generator) and checked
/// with `zmq_curve_public`. The secret key never leaves this value except into a key file
/// written with mode 0600 (``CurveKeyDirectory``) or a socket option.
public struct CurveKeyPair: Sendable, Equatable {
    /// The public key, shared with peers and listed in allow-lists.
    public let publicKey: CurvePublicKey
    /// The secret key (40 Z85 characters).
    public let secretKey: String
    /// The 32 secret key bytes (what the socket option takes).
    let secretBytes: [UInt8]

    /// Draws a new key pair.
    /// - Throws: ``CurveKeyError`` `.unsupported` when libzmq has no CURVE support.
    public static func generate() throws(CurveKeyError) -> CurveKeyPair {
        try requireCurve()
        var publicText = [CChar](repeating: 0, count: 41)
        var secretText = [CChar](repeating: 0, count: 41)
        guard zmq_curve_keypair(&publicText, &secretText) == 0 else {
            throw CurveKeyError(.unsupported, "zmq_curve_keypair failed: \(ZMQ.lastErrorDescription())")
        }
        let pair = try CurveKeyPair(secretKey: String(decoding: secretText.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        let expected = String(decoding: publicText.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        precondition(pair.publicKey.z85 == expected, "zmq_curve_public disagrees with zmq_curve_keypair")
        return pair
    }

    /// Rebuilds a key pair from its secret key (the public key is derived, never trusted from a file).
    /// - Parameter secretKey: 40 Z85 characters.
    /// - Throws: ``CurveKeyError`` `.invalidKey` for anything but a Z85-encoded 32-byte key,
    ///   `.unsupported` without CURVE.
    public init(secretKey: String) throws(CurveKeyError) {
        try Self.requireCurve()
        secretBytes = try Self.decode(secretKey, what: "secret key")
        var publicText = [CChar](repeating: 0, count: 41)
        guard zmq_curve_public(&publicText, secretKey) == 0 else {
            throw CurveKeyError(.invalidKey, "cannot derive the public key: \(ZMQ.lastErrorDescription())")
        }
        self.publicKey = try CurvePublicKey(z85: String(decoding: publicText.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        self.secretKey = secretKey
    }

    /// Whether this libzmq supports CURVE (`zmq_has("curve")`).
    public static var isSupported: Bool { zmq_has("curve") != 0 }

    static func requireCurve() throws(CurveKeyError) {
        if !isSupported {
            throw CurveKeyError(.unsupported, "this libzmq was built without CURVE (zmq_has(\"curve\") is false); install libzmq with libsodium")
        }
    }

    /// The 32 bytes a Z85 key encodes.
    static func decode(_ z85: String, what: String) throws(CurveKeyError) -> [UInt8] {
        let utf8 = Array(z85.utf8)
        guard utf8.count == 40 else {
            throw CurveKeyError(.invalidKey, "a Z85 \(what) has 40 characters, got \(utf8.count)")
        }
        guard utf8.allSatisfy(z85Alphabet.contains) else {
            throw CurveKeyError(.invalidKey, "the \(what) has characters outside the Z85 alphabet")
        }
        var bytes = [UInt8](repeating: 0, count: 32)
        let decoded = bytes.withUnsafeMutableBufferPointer { buffer in zmq_z85_decode(buffer.baseAddress, z85) }
        guard decoded != nil else {
            throw CurveKeyError(.invalidKey, "the \(what) is not valid Z85")
        }
        return bytes
    }

    /// The 85 characters of ZeroMQ RFC 32.
    private static let z85Alphabet = Set(
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#".utf8)
}
