import FedArenaNumerics

/// One layer of a ``ConvolutionalNetwork`` with its shapes fixed, working on a batch in place
/// of preallocated memory.
///
/// Tensors are stored batch first and channels last (`rows x height x width x channels`, NHWC),
/// so that a convolution's patches are contiguous runs and pooling works on channel vectors.
/// Every size a layer asks for is linear in the batch size `rows`, so the network lays out a
/// workspace for a smaller batch compactly without allocating.
///
/// ## Implementation requirements
/// - Allocate nothing in ``forward(_:randomness:)`` and ``backward(_:outputDelta:inputDelta:target:alpha:beta:)``.
/// - ``backward(_:outputDelta:inputDelta:target:alpha:beta:)`` computes the input delta before
///   it writes `target`, which may be the parameters themselves (the fused SGD step).
/// - An in-place layer (``isInPlace``) has `output == input` and `inputDelta == outputDelta`.
protocol NetworkLayer: Sendable, CustomStringConvertible {
    /// Floats per sample read.
    var inputSize: Int { get }
    /// Floats per sample written.
    var outputSize: Int { get }
    /// The layer's share of the flat parameter vector.
    var parameterCount: Int { get }
    /// Whether the layer overwrites its input (element-wise layers).
    var isInPlace: Bool { get }

    /// Floats of scratch kept from the forward pass to the backward pass (patches, masks).
    func savedCount(rows: Int) -> Int
    /// Floats of scratch used only inside one backward call.
    func temporaryCount(rows: Int) -> Int
    /// Multiply-add operations ×2 of one forward and backward pass through the matrix products.
    func trainingFLOPs(rows: Int) -> Double

    /// Draws the layer's initial parameters.
    func initialize(_ parameters: UnsafeMutablePointer<Float>, using generator: inout SeededGenerator)

    /// The forward pass; `randomness` is `nil` at evaluation (dropout is then the identity).
    func forward(_ pass: LayerPass, randomness: inout SeededGenerator?)

    /// The backward pass: the input delta (when `inputDelta` is not `nil`) from `outputDelta`, then
    /// `target = beta * target + alpha * ∂loss/∂parameters`.
    func backward(
        _ pass: LayerPass, outputDelta: UnsafeMutablePointer<Float>, inputDelta: UnsafeMutablePointer<Float>?,
        target: UnsafeMutablePointer<Float>, alpha: Float, beta: Float)
}

extension NetworkLayer {
    var parameterCount: Int { 0 }
    var isInPlace: Bool { false }
    func savedCount(rows: Int) -> Int { 0 }
    func temporaryCount(rows: Int) -> Int { 0 }
    func trainingFLOPs(rows: Int) -> Double { 0 }
    func initialize(_ parameters: UnsafeMutablePointer<Float>, using generator: inout SeededGenerator) {}
}

/// The memory a layer works on for one batch.
struct LayerPass {
    /// The batch size.
    var rows: Int
    /// The layer's parameters (meaningless for a layer without any).
    var parameters: UnsafePointer<Float>
    /// `rows x inputSize` values.
    var input: UnsafePointer<Float>
    /// `rows x outputSize` values (the input itself for an in-place layer).
    var output: UnsafeMutablePointer<Float>
    /// ``NetworkLayer/savedCount(rows:)`` floats, the same in the forward and the backward pass.
    var saved: UnsafeMutablePointer<Float>
    /// ``NetworkLayer/temporaryCount(rows:)`` floats.
    var temporary: UnsafeMutablePointer<Float>
}

/// Vector loops shared by the layers (eight lanes, then a scalar tail).
enum VectorKernels {
    /// `values[i] = max(values[i], 0)`; NaN stays NaN.
    @inline(__always)
    static func relu(_ values: UnsafeMutablePointer<Float>, count: Int) {
        let raw = UnsafeMutableRawPointer(values)
        var i = 0
        while i + 8 <= count {
            var v = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            v.replace(with: 0, where: v .< 0)
            raw.storeBytes(of: v, toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            if values[i] < 0 { values[i] = 0 }
            i += 1
        }
    }

    /// `target[i] += source[i]`.
    @inline(__always)
    static func add(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, count: Int) {
        let rawSource = UnsafeRawPointer(source)
        let rawTarget = UnsafeMutableRawPointer(target)
        var i = 0
        while i + 8 <= count {
            let sum = rawTarget.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                + rawSource.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            rawTarget.storeBytes(of: sum, toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            target[i] += source[i]
            i += 1
        }
    }

    /// Copies `count` floats; short runs (a convolution patch row of one channel) by a plain loop.
    @inline(__always)
    static func copy(_ source: UnsafePointer<Float>, to target: UnsafeMutablePointer<Float>, count: Int) {
        if count <= 8 {
            for i in 0..<count { target[i] = source[i] }
        } else {
            target.update(from: source, count: count)
        }
    }

    /// `target = beta * target + alpha * source` (`beta == 0` ignores what `target` held, NaN included).
    @inline(__always)
    static func scaleAndAdd(
        target: UnsafeMutablePointer<Float>, beta: Float, alpha: Float, source: UnsafePointer<Float>, count: Int
    ) {
        if beta == 0 {
            target.update(repeating: 0, count: count)
        } else if beta != 1 {
            BLAS.sscal(count: count, alpha: beta, x: target)
        }
        BLAS.saxpy(count: count, alpha: alpha, x: source, y: target)
    }

    /// `sums[j] = Σ_r values[r * columns + j]` over `rows` rows.
    @inline(__always)
    static func columnSums(_ values: UnsafePointer<Float>, rows: Int, columns: Int, into sums: UnsafeMutablePointer<Float>) {
        sums.update(repeating: 0, count: columns)
        for row in 0..<rows { add(values + row * columns, into: sums, count: columns) }
    }
}
