import FedArenaCore
import FedArenaWire
import Testing

/// Half-precision encoding of deltas: bit patterns and error bounds worked out by hand from
/// the binary16 format (1 sign bit, 5 exponent bits with bias 15, 10 stored significand bits).
struct Float16CodecTests {
    private func bits(_ values: [Float]) -> [UInt16] {
        guard case .float16(let bits) = Float16Codec.encode(values) else { return [] }
        return bits
    }

    @Test func representableValuesHaveTheirTextbookBitPatterns() {
        // 1 = 0 01111 0000000000; -2 = 1 10000 0...; 0.5 = 0 01110 0...; 65504 = 0 11110 1111111111;
        // 2^-14 (smallest normal) = 0 00001 0...; 2^-24 (smallest subnormal) = 0 00000 0000000001.
        let values: [Float] = [0, -0.0, 1, -2, 0.5, 65_504, 0x1p-14, 0x1p-24]
        let expected: [UInt16] = [0x0000, 0x8000, 0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0400, 0x0001]
        #expect(bits(values) == expected)
        #expect(Float16Codec.decode(expected).map(\.bitPattern) == values.map(\.bitPattern))
    }

    @Test func tiesRoundToEven() {
        // Halves near 1 are spaced 2^-10 apart. 1 + 2^-11 lies halfway between 1 (even last bit)
        // and 1 + 2^-10 (odd): it goes to 1. 1 + 3·2^-11 lies between 1 + 2^-10 (odd) and
        // 1 + 2·2^-10 (even): it goes to 1 + 2^-9, bits 0x3C02.
        #expect(bits([1 + 0x1p-11, 1 + 3 * 0x1p-11]) == [0x3C00, 0x3C02])
    }

    @Test func finiteValuesBeyondTheRangeSaturateAndNonFiniteOnesStayNonFinite() {
        let encoded = bits([70_000, -1e30, .greatestFiniteMagnitude, .infinity, -.infinity, .nan])
        #expect(Array(encoded[0..<3]) == [0x7BFF, 0xFBFF, 0x7BFF])
        #expect(encoded[3] == 0x7C00 && encoded[4] == 0xFC00)
        #expect(encoded[5] & 0x7C00 == 0x7C00 && encoded[5] & 0x03FF != 0)  // a NaN
    }

    @Test func errorStaysWithinHalfAnUnitInTheLastPlace() {
        // Round to nearest with 11 significant bits: |x̂ - x| <= 2^-11 |x| for normal halves
        // (|x| in [2^-14, 65504]); subnormal halves are spaced 2^-24, so |x̂ - x| <= 2^-25 below.
        var values = [Float]()
        for exponent in -30...15 {
            for step in 0..<64 {
                let magnitude = Float(sign: .plus, exponent: exponent, significand: 1 + Float(step) / 64 + 0x1p-20)
                values.append(step.isMultiple(of: 2) ? magnitude : -magnitude)
            }
        }
        let decoded = Float16Codec.decode(bits(values))
        for (value, back) in zip(values, decoded) {
            let error = Double(back) - Double(value)
            if value.magnitude >= 0x1p-14 {
                #expect(abs(error) <= 0x1p-11 * Double(value.magnitude), "\(value) -> \(back)")
            } else {
                #expect(abs(error) <= 0x1p-25, "\(value) -> \(back)")
            }
        }
    }
}
