import Crypto

/// The coordinator's per-round nonces: TRAIN carries one, every UPDATE must echo it.
///
/// A nonce is the first 8 bytes (little-endian) of HMAC-SHA256 (RFC 2104) keyed with a 32-byte
/// secret drawn once per run from the system's cryptographic generator, over the ASCII tag
/// `fedarena-round-nonce` followed by the round number as a little-endian `u64`. Unlike the
/// round seed, which every participant can compute from the public scenario seed, a nonce
/// cannot be predicted before its TRAIN is sent, so an UPDATE that echoes it answers that
/// TRAIN: a replayed update from an earlier round, or one made up in advance, carries another
/// value. The nonce is deterministic given the secret, so a coordinator that resumes from a
/// checkpoint (which stores ``secret``) sends the same nonces as before its restart.
///
/// The nonce does not influence training or aggregation: results stay bit-identical for a
/// given scenario and seed whatever the secret.
public struct RoundNonces: Sendable, Equatable {
    /// The secret key, 32 bytes. Store it with a checkpoint (mode 0600); never send it.
    public let secret: [UInt8]

    /// The domain-separation tag hashed before the round number.
    static let tag = Array("fedarena-round-nonce".utf8)

    /// Draws a new secret from `SystemRandomNumberGenerator` (the kernel's `getrandom`).
    public init() {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8]()
        bytes.reserveCapacity(32)
        for _ in 0..<4 {
            withUnsafeBytes(of: generator.next().littleEndian) { bytes.append(contentsOf: $0) }
        }
        secret = bytes
    }

    /// Restores the nonces of a run from its secret (after a restart).
    /// - Parameter secret: The ``secret`` of the run being resumed.
    /// - Throws: ``WireError`` `.malformed` unless the secret is 32 bytes.
    public init(secret: [UInt8]) throws(WireError) {
        guard secret.count == 32 else {
            throw WireError(.malformed, "a round-nonce secret is 32 bytes, got \(secret.count)")
        }
        self.secret = secret
    }

    /// The nonce of `round`.
    /// - Parameter round: The round number (non-negative).
    /// - Returns: HMAC-SHA256(secret, tag ‖ round as u64 LE), first 8 bytes read little-endian.
    public func nonce(round: Int) -> UInt64 {
        precondition(round >= 0, "a round number is non-negative, got \(round)")
        var message = Self.tag
        withUnsafeBytes(of: UInt64(round).littleEndian) { message.append(contentsOf: $0) }
        let code = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: secret))
        return code.withUnsafeBytes { raw in
            var value: UInt64 = 0
            for index in (0..<8).reversed() { value = value << 8 | UInt64(raw[index]) }
            return value
        }
    }

    /// How an UPDATE's round and nonce relate to the round being collected.
    public enum Freshness: Sendable, Equatable, CustomStringConvertible {
        /// It answers the current round's TRAIN.
        case current
        /// It answers an earlier round's TRAIN (late or replayed): ignore it.
        case late(round: Int)
        /// It claims a round that has not started: reject it.
        case future(round: Int)
        /// Its nonce is not the one sent for the round it claims (made up, or replayed with
        /// its round rewritten): reject it.
        case wrongNonce(round: Int)

        public var description: String {
            switch self {
            case .current: "current"
            case .late(let round): "late answer to round \(round)"
            case .future(let round): "claims future round \(round)"
            case .wrongNonce(let round): "nonce does not match the TRAIN of round \(round)"
            }
        }
    }

    /// Classifies an UPDATE (duplicates within the round are the coordinator's to count).
    /// - Parameters:
    ///   - round: The UPDATE's round.
    ///   - nonce: The UPDATE's nonce.
    ///   - currentRound: The round being collected.
    /// - Returns: `.future` for a later round, `.wrongNonce` when the nonce is not `round`'s,
    ///   `.late` for an earlier round with its right nonce, `.current` otherwise.
    public func freshness(round: Int, nonce: UInt64, currentRound: Int) -> Freshness {
        if round > currentRound { return .future(round: round) }
        if round < 0 || nonce != self.nonce(round: round) { return .wrongNonce(round: round) }
        return round == currentRound ? .current : .late(round: round)
    }
}
