import FedArenaWire
import Testing

/// Feeds the decoder random and mutated byte strings: each must either decode to a message
/// that re-encodes to exactly the same bytes, or throw a `WireError`. A trap fails the run.
struct WireCodecFuzzTests {
    /// Tallies outcomes of one fuzz campaign.
    struct Tally {
        var accepted = 0
        var rejected = 0
        var inconsistent = 0
        var codes: [String: Int] = [:]

        var total: Int { accepted + rejected + inconsistent }

        mutating func feed(_ bytes: [UInt8], limits: DecodeLimits = DecodeLimits()) {
            do {
                let message = try WireCodec.decode(bytes, limits: limits)
                if WireCodec.encode(message) == bytes { accepted += 1 } else { inconsistent += 1 }
            } catch {
                rejected += 1
                codes[error.code.description, default: 0] += 1
            }
        }
    }

    /// Valid messages with small vectors (dimension 0...12) to mutate.
    static func corpus(seed: UInt64, count: Int) -> [[UInt8]] {
        var random = RandomMessages(seed: seed, maxDimension: 12)
        return (0..<count).map { _ in WireCodec.encode(random.message()) }
    }

    @Test func randomByteStringsAreAllRejected() {
        var random = RandomMessages(seed: 901)
        var tally = Tally()
        for index in 0..<25_000 {
            var bytes = random.bytes(count: random.int(0...64))
            // Half of them start with the magic so the header checks after it are reached too.
            if index % 2 == 0 && bytes.count >= 4 { bytes.replaceSubrange(0..<4, with: WireCodec.magic) }
            tally.feed(bytes)
        }
        #expect(tally.total == 25_000)
        #expect(tally.rejected == 25_000)
        #expect(tally.codes["bad magic", default: 0] > 10_000)
        #expect(tally.codes["unsupported version", default: 0] > 5_000)
    }

    @Test func randomPayloadsInValidFramesAreRejectedOrConsistent() {
        var random = RandomMessages(seed: 902)
        var tally = Tally()
        for _ in 0..<25_000 {
            let type = UInt8(random.int(1...6))
            var payload = random.bytes(count: random.int(0...96))
            // Small leading counts make the parsers go deeper than the first length field.
            if payload.count >= 12 && random.bool() { payload.replaceSubrange(8..<12, with: Frame.le(UInt32(random.int(0...8)))) }
            if payload.count >= 4 && random.bool() { payload.replaceSubrange(0..<4, with: Frame.le(UInt32(random.int(0...8)))) }
            tally.feed(Frame.message(type: type, payload: payload))
        }
        #expect(tally.total == 25_000)
        #expect(tally.inconsistent == 0)
        #expect(tally.rejected > 20_000)
        #expect(tally.codes["truncated", default: 0] > 0)
        #expect(tally.codes["malformed", default: 0] > 0)
    }

    @Test func corruptedMessagesWithoutChecksumRepairAreAllRejected() {
        let corpus = Self.corpus(seed: 903, count: 300)
        var random = RandomMessages(seed: 904)
        var tally = Tally()
        for index in 0..<25_000 {
            let original = corpus[index % corpus.count]
            var bytes = original
            switch random.int(0...2) {
            case 0:  // one to four bit flips anywhere
                for _ in 0..<random.int(1...4) {
                    let position = random.int(0...(bytes.count - 1))
                    bytes[position] ^= UInt8(1) << UInt8(random.int(0...7))
                }
            case 1:  // insert one to eight random bytes
                bytes.insert(contentsOf: random.bytes(count: random.int(1...8)), at: random.int(0...bytes.count))
            default:  // delete one to eight bytes
                let start = random.int(0...(bytes.count - 1))
                bytes.removeSubrange(start..<min(bytes.count, start + random.int(1...8)))
            }
            if bytes == original { bytes[bytes.count - 1] ^= 0x80 }  // two flips of one bit cancelled out
            tally.feed(bytes)
        }
        #expect(tally.total == 25_000)
        #expect(tally.rejected == 25_000)
        #expect(tally.codes["checksum mismatch", default: 0] > 3_000)
    }

    @Test func mutatedMessagesWithRepairedFramingAreRejectedOrConsistent() {
        let corpus = Self.corpus(seed: 905, count: 300)
        var random = RandomMessages(seed: 906)
        var tally = Tally()
        let interesting: [UInt32] = [0, 1, 2, 3, 4, 7, 8, 12, 0x7F, 0xFF, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFE, 0xFFFF_FFFF]
        for index in 0..<30_000 {
            let original = corpus[index % corpus.count]
            var payload = Frame.payload(of: original)
            switch random.int(0...3) {
            case 0:  // bit flips in the payload
                for _ in 0..<random.int(1...3) where !payload.isEmpty {
                    let position = random.int(0...(payload.count - 1))
                    payload[position] ^= UInt8(1) << UInt8(random.int(0...7))
                }
            case 1:  // insert bytes
                payload.insert(contentsOf: random.bytes(count: random.int(1...8)), at: random.int(0...payload.count))
            case 2:  // delete bytes
                if !payload.isEmpty {
                    let start = random.int(0...(payload.count - 1))
                    payload.removeSubrange(start..<min(payload.count, start + random.int(1...8)))
                }
            default:  // rewrite a u32 (a length or count field, or part of one) with an edge value
                if payload.count >= 4 {
                    let position = random.int(0...(payload.count - 4))
                    let remaining = UInt32(payload.count - position - 4)
                    let choices = interesting + [remaining, remaining &+ 1, remaining &- 1, remaining / 4, UInt32(truncatingIfNeeded: random.bytes(count: 1)[0])]
                    payload.replaceSubrange(position..<(position + 4), with: Frame.le(choices[random.int(0...(choices.count - 1))]))
                }
            }
            let limits = index % 5 == 0 ? DecodeLimits(expectedParameterCount: random.int(0...12)) : DecodeLimits()
            tally.feed(Frame.reframe(original, payload: payload), limits: limits)
        }
        #expect(tally.total == 30_000)
        #expect(tally.inconsistent == 0)
        #expect(tally.rejected > 15_000)
        for code in ["truncated", "malformed", "non-finite value", "dimension mismatch", "oversized"] {
            #expect(tally.codes[code, default: 0] > 0, "no \(code) rejections: \(tally.codes)")
        }
    }
}
