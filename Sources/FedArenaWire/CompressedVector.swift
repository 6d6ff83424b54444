/// A parameter vector in one of the compressed encodings of an UPDATE delta
/// (``WireMessage/Update/compressedDelta``), as it travels: ``Float16Codec`` or
/// ``Int8BlockCodec`` output.
///
/// Wire layout (`cvec`, in place of the `vec` delta when the UPDATE's header flag bit 0 is set):
/// u8 encoding (1 float16, 2 int8), u32 count `d`, then for float16 `d` u16 half bit patterns;
/// for int8 a u32 block size `B` (1...65536), `⌈d / B⌉` float32 scales and `d` int8 codes
/// (-127...127).
public enum CompressedVector: Sendable, Equatable {
    /// Half-precision bit patterns, one per value.
    case float16([UInt16])
    /// One float32 scale per block of `blockSize` values and one code per value.
    case int8(blockSize: Int, scales: [Float], codes: [Int8])

    /// The encoding byte of the wire layout.
    var encodingByte: UInt8 {
        switch self {
        case .float16: 1
        case .int8: 2
        }
    }

    /// The number of values `d`.
    public var count: Int {
        switch self {
        case .float16(let bits): bits.count
        case .int8(_, _, let codes): codes.count
        }
    }

    /// The values as float32 (what the coordinator validates and aggregates).
    public func decoded() -> [Float] {
        switch self {
        case .float16(let bits): Float16Codec.decode(bits)
        case .int8(let blockSize, let scales, let codes): Int8BlockCodec.decode(blockSize: blockSize, scales: scales, codes: codes)
        }
    }

    /// The size of the `cvec` field in bytes (encoding byte and count included).
    public var wireByteCount: Int {
        switch self {
        case .float16(let bits): 1 + 4 + 2 * bits.count
        case .int8(_, let scales, let codes): 1 + 4 + 4 + 4 * scales.count + codes.count
        }
    }
}
