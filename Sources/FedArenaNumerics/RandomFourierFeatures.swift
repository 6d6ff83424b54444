import Foundation

/// Random Fourier features for the Gaussian kernel `k(x, y) = exp(−‖x − y‖² / 2σ²)`
/// (Rahimi and Recht 2007, "Random Features for Large-Scale Kernel Machines", NeurIPS).
///
/// `φ(x) = √(2/D) · cos(Ωᵀx + b)` with the `D` columns of `Ω` drawn from `N(0, σ⁻² I)` and the
/// phases `b` from `U[0, 2π)`, so that `E[φ(x)·φ(y)] = k(x, y)` and every coordinate of `φ(x)`
/// lies in `[−√(2/D), √(2/D)]` (hence `‖φ(x)‖ ≤ √2`). A batch of rows is mapped with one `sgemm`.
///
/// The map is a pure function of `(seed, inputDimension, dimension, bandwidth)`: the draws come
/// from `SeededGenerator(seed: seed, stream: [RandomFourierFeatures.streamTag])`, frequency
/// column by frequency column (`inputDimension` normals each, in input order), then the `D`
/// phases. The coordinator and every client therefore build the same map from the round seed.
public struct RandomFourierFeatures: Sendable, Equatable {
    /// The stream tag of the generator the draws come from (`"RFFSKTCH"`).
    public static let streamTag: UInt64 = 0x5246_4653_4B54_4348

    /// The seed (the round seed for data sketches).
    public let seed: UInt64
    /// Values per input row.
    public let inputDimension: Int
    /// The number of features `D`.
    public let dimension: Int
    /// The kernel bandwidth `σ`.
    public let bandwidth: Double
    /// `Ω` as `inputDimension x dimension`, row-major (already divided by `σ`).
    public let frequencies: [Float]
    /// The phases `b`, `dimension` values in `[0, 2π)`.
    public let phases: [Float]

    /// Draws the map.
    /// - Parameters:
    ///   - seed: the seed of the draws.
    ///   - inputDimension: values per input row (784 for 28x28 images).
    ///   - dimension: `D`, the number of features.
    ///   - bandwidth: `σ > 0`.
    /// - Precondition: positive sizes and a finite positive bandwidth.
    public init(seed: UInt64, inputDimension: Int, dimension: Int, bandwidth: Double) {
        precondition(inputDimension > 0 && dimension > 0, "random Fourier features need positive sizes")
        precondition(bandwidth.isFinite && bandwidth > 0, "random Fourier features need a positive bandwidth, got \(bandwidth)")
        self.seed = seed
        self.inputDimension = inputDimension
        self.dimension = dimension
        self.bandwidth = bandwidth
        var generator = SeededGenerator(seed: seed, stream: [Self.streamTag])
        var omega = [Float](repeating: 0, count: inputDimension * dimension)
        let inverse = 1 / bandwidth
        for column in 0..<dimension {
            for row in 0..<inputDimension { omega[row * dimension + column] = Float(generator.normal() * inverse) }
        }
        frequencies = omega
        phases = (0..<dimension).map { _ in Float(generator.unitDouble() * 2 * Double.pi) }
    }

    /// The factor `√(2/D)`: the largest absolute value of a feature.
    public var amplitude: Float { Float((2 / Double(dimension)).squareRoot()) }

    /// Maps `rows` inputs into `output` (`rows x dimension`, row-major).
    /// - Precondition: `inputs.count >= rows * inputDimension`, `output.count >= rows * dimension`.
    public func transform(_ inputs: UnsafeBufferPointer<Float>, rows: Int, into output: UnsafeMutableBufferPointer<Float>) {
        precondition(inputs.count >= rows * inputDimension, "transform: \(inputs.count) inputs for \(rows) rows of \(inputDimension)")
        precondition(output.count >= rows * dimension, "transform: output too small")
        guard rows > 0, let px = inputs.baseAddress, let po = output.baseAddress else { return }
        frequencies.withUnsafeBufferPointer { pw in
            BLAS.sgemm(m: rows, n: dimension, k: inputDimension, a: px, b: pw.baseAddress!, c: po)
        }
        let scale = amplitude
        phases.withUnsafeBufferPointer { pb in
            for row in 0..<rows {
                let base = po + row * dimension
                for j in 0..<dimension { base[j] = scale * cos(base[j] + pb[j]) }
            }
        }
    }

    /// The features of `rows` packed inputs, `rows x dimension` row-major.
    /// - Precondition: `inputs.count == rows * inputDimension`.
    public func transform(_ inputs: [Float], rows: Int) -> [Float] {
        precondition(inputs.count == rows * inputDimension, "transform: \(inputs.count) values are not \(rows) rows of \(inputDimension)")
        var output = [Float](repeating: 0, count: rows * dimension)
        inputs.withUnsafeBufferPointer { px in
            output.withUnsafeMutableBufferPointer { po in transform(px, rows: rows, into: po) }
        }
        return output
    }

    /// The exact kernel `exp(−‖x − y‖² / 2σ²)` the features approximate.
    public func kernel(_ x: [Float], _ y: [Float]) -> Double {
        exp(-VectorMath.squaredDistance(x, y) / (2 * bandwidth * bandwidth))
    }
}
