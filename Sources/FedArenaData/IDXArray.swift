/// An unsigned-byte IDX array in memory (the format of the MNIST and Fashion-MNIST files,
/// LeCun et al. 1998): its dimensions and its bytes in row-major order.
public struct IDXArray: Sendable, Equatable {
    /// The dimensions, outermost first (`[60000, 28, 28]` for the Fashion-MNIST training images).
    public var dimensions: [Int]
    /// The values, row-major, `dimensions.reduce(1, *)` of them.
    public var bytes: [UInt8]

    /// Creates an array.
    /// - Parameters:
    ///   - dimensions: The dimensions, outermost first.
    ///   - bytes: The values, row-major.
    /// - Precondition: `bytes.count` is the product of `dimensions`, and there is at least one dimension.
    public init(dimensions: [Int], bytes: [UInt8]) {
        precondition(!dimensions.isEmpty, "an IDX array has at least one dimension")
        precondition(dimensions.allSatisfy { $0 >= 0 }, "IDX dimensions are non-negative")
        precondition(bytes.count == dimensions.reduce(1, *), "IDX bytes and dimensions disagree")
        self.dimensions = dimensions
        self.bytes = bytes
    }

    /// The number of items along the first dimension (samples, for a dataset file).
    public var itemCount: Int { dimensions[0] }

    /// The values per item: the product of all dimensions but the first (784 for 28x28 images).
    public var itemSize: Int { dimensions.dropFirst().reduce(1, *) }

    /// The values as `Float`, each divided by `divisor` (255 maps pixels to [0, 1]).
    ///
    /// `Float(byte) / divisor` in single precision, bit-identical to numpy's
    /// `x.astype(np.float32) / np.float32(255.0)`.
    /// - Parameter divisor: The value to divide by.
    /// - Returns: `bytes.count` floats in the same order.
    public func floats(dividedBy divisor: Float = 255) -> [Float] {
        let count = bytes.count
        return [Float](unsafeUninitializedCapacity: count) { output, initialized in
            bytes.withUnsafeBufferPointer { input in
                for index in 0..<count { output[index] = Float(input[index]) / divisor }
            }
            initialized = count
        }
    }
}
