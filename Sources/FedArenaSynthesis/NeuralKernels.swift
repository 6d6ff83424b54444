import FedArenaNumerics
import Foundation

/// The dense-layer, activation and initialisation kernels the neural generators (``ConditionalGAN``,
/// ``ConditionalDiffusion``) share. Matrices are row-major; a layer computes `x W + b` with `W`
/// stored `inputs x outputs`. Every product goes through ``BLAS/sgemm``.
enum NeuralKernels {
    /// `out[rows x n] = x[rows x k] W[k x n] (+ b)`; with `accumulate`, adds to `out`.
    static func dense(
        _ x: UnsafePointer<Float>, rows: Int, inputs k: Int, outputs n: Int,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, out: UnsafeMutablePointer<Float>, accumulate: Bool = false
    ) {
        guard rows > 0 else { return }
        BLAS.sgemm(m: rows, n: n, k: k, a: x, b: weight, beta: accumulate ? 1 : 0, c: out)
        if let bias {
            for i in 0..<rows {
                let row = out + i * n
                for j in 0..<n { row[j] += bias[j] }
            }
        }
    }

    /// The backward pass of ``dense(_:rows:inputs:outputs:weight:bias:out:accumulate:)``:
    /// `dW += xᵀ dOut`, `db += Σ_rows dOut`, and `dX = dOut Wᵀ` (added to `dX` with
    /// `accumulateInput`). Pass `nil` for what is not needed.
    static func denseBackward(
        _ x: UnsafePointer<Float>, dOut: UnsafePointer<Float>, rows: Int, inputs k: Int, outputs n: Int,
        weight: UnsafePointer<Float>, dWeight: UnsafeMutablePointer<Float>?, dBias: UnsafeMutablePointer<Float>?,
        dInput: UnsafeMutablePointer<Float>?, accumulateInput: Bool = false
    ) {
        guard rows > 0 else { return }
        if let dWeight { BLAS.sgemm(transposeA: true, m: k, n: n, k: rows, a: x, b: dOut, beta: 1, c: dWeight) }
        if let dBias {
            for i in 0..<rows {
                let row = dOut + i * n
                for j in 0..<n { dBias[j] += row[j] }
            }
        }
        if let dInput {
            BLAS.sgemm(transposeB: true, m: rows, n: k, k: n, a: dOut, b: weight, beta: accumulateInput ? 1 : 0, c: dInput)
        }
    }

    /// Adds row `labels[i]` of the `classes x n` table `embedding` to row `i` of `out`.
    static func addEmbedding(
        _ embedding: UnsafePointer<Float>, labels: UnsafePointer<Int32>, rows: Int, width n: Int, to out: UnsafeMutablePointer<Float>
    ) {
        for i in 0..<rows {
            let source = embedding + Int(labels[i]) * n
            let row = out + i * n
            for j in 0..<n { row[j] += source[j] }
        }
    }

    /// Adds row `i` of `dOut` to row `labels[i]` of the embedding gradient.
    static func embeddingBackward(
        _ dOut: UnsafePointer<Float>, labels: UnsafePointer<Int32>, rows: Int, width n: Int, dEmbedding: UnsafeMutablePointer<Float>
    ) {
        for i in 0..<rows {
            let target = dEmbedding + Int(labels[i]) * n
            let row = dOut + i * n
            for j in 0..<n { target[j] += row[j] }
        }
    }

    /// Leaky ReLU in place, `max(a, slope · a)` (Maas et al. 2013).
    static func leakyReLU(_ values: UnsafeMutablePointer<Float>, count: Int, slope: Float) {
        for i in 0..<count where values[i] < 0 { values[i] *= slope }
    }

    /// Multiplies `gradient` by the leaky ReLU's derivative, read from its output (the output
    /// has the sign of its input).
    static func leakyReLUBackward(output: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>, count: Int, slope: Float) {
        for i in 0..<count where output[i] < 0 { gradient[i] *= slope }
    }

    /// SiLU, `a · sigmoid(a)` (Elfwing et al. 2018; "swish", Ramachandran et al. 2017), from
    /// the pre-activations `a` into `out`.
    static func silu(_ a: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            let v = a[i]
            out[i] = v / (1 + exp(-v))
        }
    }

    /// Multiplies `gradient` by SiLU's derivative `σ(a) (1 + a (1 − σ(a)))` at the pre-activations `a`.
    static func siluBackward(preActivation a: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            let v = a[i]
            let s = 1 / (1 + exp(-v))
            gradient[i] *= s * (1 + v * (1 - s))
        }
    }

    /// `log(1 + e^x)`, stable for large `|x|`.
    @inline(__always)
    static func softplus(_ x: Float) -> Float { max(x, 0) + log1p(exp(-abs(x))) }

    /// The logistic function.
    @inline(__always)
    static func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }

    /// Fills `count` weights with `N(0, gain / fanIn)` (He et al. 2015 with `gain = 2`; LeCun
    /// initialisation with `gain = 1`).
    static func initialise(
        _ out: UnsafeMutablePointer<Float>, count: Int, fanIn: Int, gain: Double, using rng: inout SeededGenerator
    ) {
        let std = Float((gain / Double(max(fanIn, 1))).squareRoot())
        let draws = rng.standardNormals(count)
        for i in 0..<count { out[i] = draws[i] * std }
    }

    /// A permutation of `0..<count` from `SeededGenerator(seed: seed, stream: stream)`.
    static func permutation(_ count: Int, seed: UInt64, stream: [UInt64]) -> [Int] {
        var generator = SeededGenerator(seed: seed, stream: stream)
        return generator.permutation(count)
    }

    /// `logit(clip(mean pixel))` of each feature: the output bias that makes an untrained
    /// sigmoid output layer produce the mean image.
    static func meanLogits(_ samples: [Float], count: Int, featureCount d: Int) -> [Float] {
        var mean = [Double](repeating: 0, count: d)
        samples.withUnsafeBufferPointer { x in
            for i in 0..<count { for j in 0..<d { mean[j] += Double(x[i * d + j]) } }
        }
        return mean.map { total in
            let p = min(max(total / Double(max(count, 1)), 1e-3), 1 - 1e-3)
            return Float(log(p / (1 - p)))
        }
    }
}

/// Adam (Kingma and Ba 2015, "Adam: a method for stochastic optimization", ICLR, Algorithm 1)
/// over one flat parameter block, with bias correction.
struct AdamState {
    let learningRate: Float
    let beta1: Float
    let beta2: Float
    let epsilon: Float
    private(set) var step = 0
    private var m: [Float]
    private var v: [Float]

    /// Creates the state for `count` parameters.
    init(count: Int, learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        m = [Float](repeating: 0, count: count)
        v = m
    }

    /// One step: `θ ← θ − α m̂ / (√v̂ + ε)`.
    mutating func update(_ theta: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>) {
        step += 1
        let correction1 = 1 - pow(beta1, Float(step))
        let correction2 = 1 - pow(beta2, Float(step))
        let stepSize = learningRate * correction2.squareRoot() / correction1
        let scaledEpsilon = epsilon * correction2.squareRoot()
        let (b1, b2) = (beta1, beta2)
        m.withUnsafeMutableBufferPointer { pm in
            v.withUnsafeMutableBufferPointer { pv in
                for i in 0..<pm.count {
                    let g = gradient[i]
                    pm[i] = b1 * pm[i] + (1 - b1) * g
                    pv[i] = b2 * pv[i] + (1 - b2) * g * g
                    theta[i] -= stepSize * pm[i] / (pv[i].squareRoot() + scaledEpsilon)
                }
            }
        }
    }
}

/// Zero-initialised float scratch memory that lives as long as one fit (not `Sendable`;
/// never leaves the function that made it).
final class ScratchBuffer {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(_ count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { pointer.deallocate() }

    /// Sets every value to 0.
    func zero() { pointer.update(repeating: 0, count: count) }

    /// The values as an array.
    var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    /// Copies `values` in (at most `count`).
    func load(_ values: [Float]) {
        let n = min(values.count, count)
        guard n > 0 else { return }
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: n) }
    }
}
