import FedArenaWire
import Testing

struct RoundNoncesTests {
    /// Reference values from Python's standard library:
    /// `hmac.new(bytes(range(32)), b"fedarena-round-nonce" + struct.pack("<Q", r), hashlib.sha256)
    ///  .digest()[:8]` read with `struct.unpack("<Q", ...)`.
    @Test(arguments: [
        (0, 0x720f_a363_ec8b_d3d4 as UInt64), (1, 0x82d6_5b4e_a1d8_93f4), (7, 0xaab4_61bb_982f_798d),
        (1_000_000, 0xd5d8_57ac_8758_4037),
    ])
    func noncesMatchHMACSHA256(round: Int, expected: UInt64) throws {
        let nonces = try RoundNonces(secret: Array(0..<32))
        #expect(nonces.nonce(round: round) == expected)
    }

    @Test func freshSecretsDifferAndTheirNoncesToo() throws {
        let first = RoundNonces()
        let second = RoundNonces()
        #expect(first.secret.count == 32)
        #expect(first.secret != second.secret)
        #expect(first.nonce(round: 1) != second.nonce(round: 1))
        // A restored secret gives the same nonces (a resumed coordinator).
        #expect(try RoundNonces(secret: first.secret).nonce(round: 5) == first.nonce(round: 5))
    }

    @Test func secretsOfAnotherLengthAreRefused() {
        #expect(throws: WireError.self) { try RoundNonces(secret: Array(repeating: 1, count: 31)) }
        #expect(throws: WireError.self) { try RoundNonces(secret: []) }
    }

    @Test func freshnessSeparatesCurrentLateFutureAndForged() throws {
        let nonces = try RoundNonces(secret: Array(repeating: 7, count: 32))
        let four = nonces.nonce(round: 4)
        #expect(nonces.freshness(round: 4, nonce: four, currentRound: 4) == .current)
        #expect(nonces.freshness(round: 3, nonce: nonces.nonce(round: 3), currentRound: 4) == .late(round: 3))
        #expect(nonces.freshness(round: 5, nonce: nonces.nonce(round: 5), currentRound: 4) == .future(round: 5))
        // Round 3's update replayed with its round rewritten to 4 keeps round 3's nonce.
        #expect(nonces.freshness(round: 4, nonce: nonces.nonce(round: 3), currentRound: 4) == .wrongNonce(round: 4))
        #expect(nonces.freshness(round: 4, nonce: 0, currentRound: 4) == .wrongNonce(round: 4))
        #expect(nonces.freshness(round: 2, nonce: four, currentRound: 4) == .wrongNonce(round: 2))
    }
}
