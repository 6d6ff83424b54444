/// Symmetric 8-bit quantisation with one float32 scale per block, for the values of a
/// compressed UPDATE delta (`transport.compression: int8`): about `1 + 4 / B` bytes per value.
///
/// The values are cut into blocks of `B` (the last may be shorter). For a block with largest
/// magnitude `m`, the scale is `s = m / 127` and each value `x` becomes the code
/// `q = round(x / s)` (ties to even) in -127...127; it decodes as `x̂ = s · q`. The largest
/// magnitude maps to ±127 exactly, and every value's error is at most half a step,
/// `|x̂ - x| ≤ s / 2`, plus float32 rounding of the division and the product (each at most
/// 2^-24 · m, so `|x̂ - x| ≤ s / 2 + 2^-23 · m`). A block of zeros has scale 0. Per-block
/// scales (rather than one per vector) keep a layer of small weights from being flattened
/// by another layer's large ones (the block-wise scheme of Dettmers et al. 2022, "8-bit
/// Optimizers via Block-wise Quantization", ICLR).
///
/// A block holding NaN or an infinity gets a NaN scale, so the coordinator rejects the update
/// as it would reject the float32 one.
public struct Int8BlockCodec: Sendable, Equatable {
    /// The largest block the wire format accepts.
    public static let maxBlockSize = 65_536

    /// Values per scale, `B` in 1...``maxBlockSize``.
    public let blockSize: Int

    /// Creates a codec.
    /// - Parameter blockSize: Values per scale, in 1...``maxBlockSize`` (the scenario schema
    ///   checks `transport.compression_block` before any process starts).
    public init(blockSize: Int) {
        precondition((1...Self.maxBlockSize).contains(blockSize), "int8 block size \(blockSize) outside 1...\(Self.maxBlockSize)")
        self.blockSize = blockSize
    }

    /// The number of blocks (scales) of a `count`-value vector.
    public static func blockCount(_ count: Int, blockSize: Int) -> Int { (count + blockSize - 1) / blockSize }

    /// Quantises `values`.
    /// - Parameter values: The values.
    /// - Returns: The encoded vector (``CompressedVector/int8(blockSize:scales:codes:)``).
    public func encode(_ values: [Float]) -> CompressedVector {
        let count = values.count
        let blocks = Self.blockCount(count, blockSize: blockSize)
        var scales = [Float](repeating: 0, count: blocks)
        var codes = [Int8](repeating: 0, count: count)
        values.withUnsafeBufferPointer { source in
            codes.withUnsafeMutableBufferPointer { codes in
                for block in 0..<blocks {
                    let range = (block * blockSize)..<min(count, (block + 1) * blockSize)
                    var largest: Float = 0
                    var finite = true
                    for index in range {
                        let magnitude = source[index].magnitude
                        if !magnitude.isFinite { finite = false }
                        largest = max(largest, magnitude)
                    }
                    guard finite else {
                        scales[block] = .nan
                        continue
                    }
                    let scale = largest / 127
                    // A zero block, or one so tiny that its scale underflows, stays all zero codes.
                    guard scale > 0 else { continue }
                    scales[block] = scale
                    for index in range {
                        let step = (source[index] / scale).rounded(.toNearestOrEven)
                        codes[index] = Int8(min(max(step, -127), 127))
                    }
                }
            }
        }
        return .int8(blockSize: blockSize, scales: scales, codes: codes)
    }

    /// Dequantises codes: value `i` is `scales[i / blockSize] · codes[i]`.
    /// - Parameters:
    ///   - blockSize: Values per scale.
    ///   - scales: One scale per block.
    ///   - codes: The codes.
    /// - Returns: The values.
    public static func decode(blockSize: Int, scales: [Float], codes: [Int8]) -> [Float] {
        precondition(scales.count == blockCount(codes.count, blockSize: blockSize), "int8 decode: one scale per block")
        return [Float](unsafeUninitializedCapacity: codes.count) { destination, initialized in
            codes.withUnsafeBufferPointer { codes in
                for block in scales.indices {
                    let scale = scales[block]
                    for index in (block * blockSize)..<min(codes.count, (block + 1) * blockSize) {
                        destination[index] = scale * Float(codes[index])
                    }
                }
            }
            initialized = codes.count
        }
    }
}
