/// A model's parameters, or an update to them, as one flat float32 vector.
///
/// Every model in FedArena exposes its parameters in one fixed order (for an MLP: W1 row-major,
/// b1, W2, b2, ...), so updates from different clients can be compared coordinate by coordinate.
public struct ParameterVector: Sendable, Equatable, Hashable {
    /// The coordinates.
    public var values: [Float]

    /// Wraps existing coordinates.
    public init(_ values: [Float]) { self.values = values }

    /// A vector of `count` zeros.
    public init(zeros count: Int) { self.values = [Float](repeating: 0, count: count) }

    /// The dimension `d`.
    @inlinable public var count: Int { values.count }

    /// Whether every coordinate is finite (no NaN, no infinity).
    public var isFinite: Bool {
        values.withUnsafeBufferPointer { buffer in
            var finite = true
            for value in buffer where !value.isFinite { finite = false; break }
            return finite
        }
    }

    /// The Euclidean norm, accumulated in double precision.
    public var norm: Double {
        values.withUnsafeBufferPointer { buffer in
            var sum = 0.0
            for value in buffer { sum += Double(value) * Double(value) }
            return sum.squareRoot()
        }
    }

    /// The little-endian bytes of the coordinates (what `model_sha256` hashes).
    public var littleEndianBytes: [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(values.count * 4)
        for value in values {
            let bits = value.bitPattern.littleEndian
            withUnsafeBytes(of: bits) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }
}
