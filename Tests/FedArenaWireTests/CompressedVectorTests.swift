import FedArenaCore
import FedArenaWire
import Testing

/// Compressed UPDATE deltas on the wire (header flag bit 0, `cvec` layout), and the decoder's
/// checks of everything a peer could put in them.
struct CompressedVectorTests {
    private func update(_ values: [Float], _ compressed: CompressedVector) -> WireMessage.Update {
        var update = WireMessage.Update(
            round: 2, nonce: 9, client: ClientID(4), sampleCount: 6, trainLoss: 0.5, delta: ParameterVector(values))
        update.compress(compressed)
        return update
    }

    @Test func compressedUpdatesRoundTripBitExactlyAndAreSmaller() throws {
        let values = (0..<1_000).map { Float($0 % 17) * 0.01 - 0.08 }
        for compressed in [Float16Codec.encode(values), Int8BlockCodec(blockSize: 256).encode(values)] {
            let message = WireMessage.update(update(values, compressed))
            let bytes = WireCodec.encode(message)
            #expect(bytes[7] == 1)  // the compressed-delta flag
            // Header, five 8-byte fields, the cvec, no metrics (u32), three absent-flag bytes
            // (sketch, audit samples, commitment).
            #expect(bytes.count == 16 + 40 + compressed.wireByteCount + 4 + 3)
            let decoded = try WireCodec.decode(bytes, limits: DecodeLimits(expectedParameterCount: 1_000))
            #expect(decoded == message)
            #expect(WireCodec.encode(decoded) == bytes)
            guard case .update(let received) = decoded else { return }
            #expect(received.delta.values == compressed.decoded())
        }
        // float16: 2 bytes per value; int8 with blocks of 256: 4 blocks -> 4 scales + 1,000 codes.
        #expect(Float16Codec.encode(values).wireByteCount == 1 + 4 + 2_000)
        #expect(Int8BlockCodec(blockSize: 256).encode(values).wireByteCount == 1 + 4 + 4 + 16 + 1_000)
    }

    @Test func assigningTheDeltaDropsTheCompressedForm() {
        var message = update([1, 2], Float16Codec.encode([1, 2]))
        #expect(message.compressedDelta != nil)
        message.delta = ParameterVector([3, 4])
        #expect(message.compressedDelta == nil)
        #expect(WireCodec.encode(.update(message))[7] == 0)
    }

    /// The payload of a compressed UPDATE with `cvec` bytes `vector`, framed with flag 1.
    private func frame(_ vector: [UInt8]) -> [UInt8] {
        let payload = Frame.le(Int64(2)) + Frame.le(UInt64(9)) + Frame.le(Int64(4)) + Frame.le(Int64(6)) + Frame.le(UInt64(0))
            + vector + Frame.le(UInt32(0)) + [0, 0, 0]
        return Frame.reframe(WireCodec.magic + Frame.le(WireCodec.protocolVersion) + [4, 1], payload: payload)
    }

    @Test func theHandBuiltLayoutDecodes() throws {
        // float16 [1, -2]: encoding 1, count 2, halves 0x3C00 and 0xC000.
        let half = frame([1] + Frame.le(UInt32(2)) + Frame.le(UInt16(0x3C00)) + Frame.le(UInt16(0xC000)))
        guard case .update(let first) = try WireCodec.decode(half) else { Issue.record("not an UPDATE"); return }
        #expect(first.delta.values == [1, -2])
        // int8, blocks of 2, scales 0.5 and 2, codes [2, -1, 127]: values 1, -0.5, 254.
        let int8 = frame([2] + Frame.le(UInt32(3)) + Frame.le(UInt32(2)) + Frame.le(Float(0.5).bitPattern) + Frame.le(Float(2).bitPattern) + [2, 0xFF, 127])
        guard case .update(let second) = try WireCodec.decode(int8) else { Issue.record("not an UPDATE"); return }
        #expect(second.delta.values == [1, -0.5, 254])
    }

    @Test func badCompressedDeltasAreRejectedWithTheirReason() {
        let halfInfinity = frame([1] + Frame.le(UInt32(1)) + Frame.le(UInt16(0x7C00)))
        #expect(decodeError(halfInfinity)?.code == .nonFinite)
        let unknownEncoding = frame([3] + Frame.le(UInt32(0)))
        #expect(decodeError(unknownEncoding)?.code == .malformed)
        let blockZero = frame([2] + Frame.le(UInt32(1)) + Frame.le(UInt32(0)) + Frame.le(Float(1).bitPattern) + [1])
        #expect(decodeError(blockZero)?.code == .malformed)
        let code128 = frame([2] + Frame.le(UInt32(1)) + Frame.le(UInt32(4)) + Frame.le(Float(1).bitPattern) + [0x80])
        #expect(decodeError(code128)?.code == .malformed)
        for scale in [Float.nan, -1, Float.greatestFiniteMagnitude] {
            let bad = frame([2] + Frame.le(UInt32(1)) + Frame.le(UInt32(4)) + Frame.le(scale.bitPattern) + [1])
            #expect(decodeError(bad)?.code == .nonFinite, "scale \(scale)")
        }
        // A count that the remaining bytes cannot hold is truncated, before any allocation.
        let short = frame([1] + Frame.le(UInt32(1_000_000)) + [0, 0])
        #expect(decodeError(short)?.code == .truncated)
        let wrongDimension = frame([1] + Frame.le(UInt32(2)) + Frame.le(UInt16(0)) + Frame.le(UInt16(0)))
        #expect(decodeError(wrongDimension, limits: DecodeLimits(expectedParameterCount: 3))?.code == .dimensionMismatch)
        // Flag bit 0 is an UPDATE flag only.
        var train = WireCodec.encode(.train(.init(round: 1, roundSeed: 1, clients: [], model: ParameterVector([1]))))
        train[7] = 1
        #expect(decodeError(Frame.fixChecksum(train))?.code == .malformed)
    }
}
