/// IEEE 754 half precision (binary16) for the values of a compressed UPDATE delta
/// (`transport.compression: float16`): 2 bytes per value instead of 4.
///
/// Encoding rounds to the nearest half, ties to even. A half keeps 11 significant bits, so for
/// |x| in the normal range [2^-14, 65504] the error is at most half a unit in the last place,
/// |x̂ - x| ≤ 2^-11 |x|; below 2^-14 halves are subnormal with spacing 2^-24, so |x̂ - x| ≤ 2^-25.
/// Finite values beyond ±65504 (the largest finite half) saturate to ±65504 instead of becoming
/// infinite, so a large but finite update stays finite on the wire; NaN and infinities stay
/// non-finite, and the coordinator rejects them as it rejects them in float32.
public enum Float16Codec {
    /// The largest finite half, 65504 = (2 - 2^-10) · 2^15.
    public static let largestFinite: Float = 65_504

    /// Encodes float32 values as half bit patterns.
    /// - Parameter values: The values.
    /// - Returns: The encoded vector (``CompressedVector/float16(_:)``).
    public static func encode(_ values: [Float]) -> CompressedVector {
        let bits = [UInt16](unsafeUninitializedCapacity: values.count) { destination, initialized in
            values.withUnsafeBufferPointer { source in
                for index in source.indices {
                    let value = source[index]
                    let clamped = value.isFinite ? min(max(value, -largestFinite), largestFinite) : value
                    destination[index] = Float16(clamped).bitPattern
                }
            }
            initialized = values.count
        }
        return .float16(bits)
    }

    /// Decodes half bit patterns to float32 (exactly: every half is a float32).
    /// - Parameter bits: The half bit patterns.
    /// - Returns: The values.
    public static func decode(_ bits: [UInt16]) -> [Float] {
        [Float](unsafeUninitializedCapacity: bits.count) { destination, initialized in
            bits.withUnsafeBufferPointer { source in
                for index in source.indices { destination[index] = Float(Float16(bitPattern: source[index])) }
            }
            initialized = bits.count
        }
    }

    /// Whether a half bit pattern is NaN or infinite (its five exponent bits all set).
    static func isNonFinite(_ bits: UInt16) -> Bool { bits & 0x7C00 == 0x7C00 }
}
