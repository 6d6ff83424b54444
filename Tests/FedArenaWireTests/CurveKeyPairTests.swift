import FedArenaWire
import Testing

struct CurveKeyPairTests {
    /// The key pairs printed in libzmq's `zmq_curve(7)` manual; each public key was checked
    /// independently with Python (`cryptography`'s X25519 on the Z85-decoded secret, RFC 32
    /// decoding written out by hand).
    @Test(arguments: [
        ("D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs", "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"),
        ("JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6", "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"),
    ])
    func thePublicKeyIsDerivedFromTheSecretKey(secret: String, expectedPublic: String) throws {
        let pair = try CurveKeyPair(secretKey: secret)
        #expect(pair.publicKey.z85 == expectedPublic)
        #expect(pair.secretKey == secret)
    }

    @Test func generatedPairsAreDistinctAndSelfConsistent() throws {
        let first = try CurveKeyPair.generate()
        let second = try CurveKeyPair.generate()
        #expect(first.publicKey != second.publicKey)
        #expect(first.publicKey.z85.count == 40)
        #expect(try CurveKeyPair(secretKey: first.secretKey) == first)
    }

    @Test(arguments: [
        ("", "40 characters"), ("short", "40 characters"),
        ("Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hI", "40 characters"),
        ("Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{h\"D", "Z85 alphabet"),
        ("Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{h D", "Z85 alphabet"),
    ])
    func malformedKeysAreRefused(text: String, reason: String) {
        do {
            _ = try CurvePublicKey(z85: text)
            Issue.record("\(text) was accepted")
        } catch {
            #expect(error.code == .invalidKey)
            #expect(error.message.contains(reason), "\(error.message)")
        }
        #expect(throws: CurveKeyError.self) { _ = try CurveKeyPair(secretKey: text) }
    }
}
