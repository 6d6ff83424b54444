import FedArenaCore
import FedArenaNumerics
import FedArenaWire
import Testing

/// Block-wise 8-bit quantisation: codes and scales worked out by hand, and the error bound
/// `|x̂ - x| <= s/2 + 2^-23 m` derived in the codec's documentation.
struct Int8BlockCodecTests {
    private func parts(_ vector: CompressedVector) -> (blockSize: Int, scales: [Float], codes: [Int8])? {
        guard case .int8(let blockSize, let scales, let codes) = vector else { return nil }
        return (blockSize, scales, codes)
    }

    @Test func codesAndScalesOfAHandWorkedExample() throws {
        // Blocks of 4. Block 1: m = 127, s = 1, codes = the values rounded (0.5 ties to even 0).
        // Block 2 (3 values): m = 63.5, s = 0.5, x / s = 127, 2.5, -0.5 -> 127, 2 (even), 0 (even).
        let values: [Float] = [127, -63, 0.5, 2, 63.5, 1.25, -0.25]
        let encoded = Int8BlockCodec(blockSize: 4).encode(values)
        let (blockSize, scales, codes) = try #require(parts(encoded))
        #expect(blockSize == 4)
        #expect(scales == [1, 0.5])
        #expect(codes == [127, -63, 0, 2, 127, 2, 0])
        #expect(encoded.decoded() == [127, -63, 0, 2, 63.5, 1, 0])
        #expect(encoded.count == 7)
        // cvec: encoding byte, count, block size, 2 scales, 7 codes.
        #expect(encoded.wireByteCount == 1 + 4 + 4 + 2 * 4 + 7)
    }

    @Test func aZeroBlockHasScaleZeroAndANonFiniteBlockANaNScale() throws {
        let (_, scales, codes) = try #require(parts(Int8BlockCodec(blockSize: 2).encode([0, -0.0, 1, .nan, 3, .infinity])))
        #expect(scales[0] == 0 && codes[0] == 0 && codes[1] == 0)
        #expect(scales[1].isNaN && scales[2].isNaN)
    }

    @Test(arguments: [1, 7, 256])
    func errorStaysWithinHalfAStep(blockSize: Int) throws {
        var generator = SeededGenerator(seed: 11, stream: [UInt64(blockSize)])
        let values = (0..<2_000).map { index -> Float in
            // Magnitudes from 1e-6 to 10 so that blocks mix scales.
            let scale: Float = [1e-6, 1e-3, 1, 10][(index / 300) % 4]
            return Float.random(in: -1...1, using: &generator) * scale
        }
        let encoded = Int8BlockCodec(blockSize: blockSize).encode(values)
        let decoded = encoded.decoded()
        for start in stride(from: 0, to: values.count, by: blockSize) {
            let block = start..<min(values.count, start + blockSize)
            let largest = block.map { Double(values[$0].magnitude) }.max()!
            let step = largest / 127
            for index in block {
                let error = abs(Double(decoded[index]) - Double(values[index]))
                #expect(error <= step / 2 + 0x1p-23 * largest, "value \(index) of block size \(blockSize)")
            }
        }
    }
}
