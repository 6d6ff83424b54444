import FedArenaCore
import FedArenaNumerics
import Foundation

/// The math shared by ``SoftmaxRegression`` and ``MLP``: a stack of fully connected layers with
/// ReLU between them and softmax cross-entropy on top, forward and backward through `sgemm`.
///
/// Parameter layout (the numpy reference's): for each layer `l`, `W_l` (`widths[l] x widths[l+1]`,
/// row-major) then `b_l`. Workspace layout for a batch of `rows` (offsets depend on `rows`, not
/// on the capacity, so a small batch stays compact): the hidden activations of every layer,
/// then the logits (which become the output delta), then two ping-pong delta buffers of
/// `rows x maxHidden`, then one row of column sums for the bias gradients.
struct DenseStack: Sendable, Equatable {
    /// `[inputs, hidden..., classes]`.
    let widths: [Int]
    /// Where each layer's `W` starts in the flat vector.
    let weightOffsets: [Int]
    /// Where each layer's `b` starts in the flat vector.
    let biasOffsets: [Int]
    /// The flat dimension.
    let parameterCount: Int
    /// `hiddenPrefix[l]` = the sum of the hidden widths before hidden layer `l`.
    private let hiddenPrefix: [Int]
    private let hiddenTotal: Int
    private let maxHidden: Int
    private let maxOutput: Int

    /// Creates the stack for `widths = [inputs, hidden..., classes]`.
    /// - Precondition: at least two widths, all positive.
    init(widths: [Int]) {
        precondition(widths.count >= 2 && widths.allSatisfy { $0 > 0 }, "layer widths must be positive")
        self.widths = widths
        var weightOffsets = [Int]()
        var biasOffsets = [Int]()
        var offset = 0
        for layer in 0..<(widths.count - 1) {
            weightOffsets.append(offset)
            offset += widths[layer] * widths[layer + 1]
            biasOffsets.append(offset)
            offset += widths[layer + 1]
        }
        self.weightOffsets = weightOffsets
        self.biasOffsets = biasOffsets
        parameterCount = offset
        let hidden = Array(widths.dropFirst().dropLast())
        var prefix = [Int]()
        var total = 0
        for width in hidden {
            prefix.append(total)
            total += width
        }
        hiddenPrefix = prefix
        hiddenTotal = total
        maxHidden = hidden.max() ?? 0
        maxOutput = widths.dropFirst().max() ?? 0
    }

    var layerCount: Int { widths.count - 1 }
    var inputCount: Int { widths[0] }
    var classCount: Int { widths[widths.count - 1] }

    /// He-normal weights (He et al. 2015, "Delving deep into rectifiers", §2.2): `W_l ~ N(0, 2/fan_in)`
    /// drawn layer by layer in row-major order, each draw `Float(normal() * sqrt(2/fan_in))`;
    /// biases 0.
    func initialParameters(using generator: inout SeededGenerator) -> ParameterVector {
        var values = [Float](repeating: 0, count: parameterCount)
        for layer in 0..<layerCount {
            let fanIn = widths[layer]
            let std = (2.0 / Double(fanIn)).squareRoot()
            let start = weightOffsets[layer]
            for index in start..<(start + fanIn * widths[layer + 1]) {
                values[index] = Float(generator.normal() * std)
            }
        }
        return ParameterVector(values)
    }

    func workspaceSize(batchCapacity rows: Int) -> Int {
        rows * (hiddenTotal + classCount + 2 * maxHidden) + maxOutput
    }

    // MARK: - Passes

    /// The forward pass: hidden activations land in the workspace, `rows x classCount` logits
    /// in `logits`.
    @inline(__always)
    private func forward(
        parameters: UnsafePointer<Float>, inputs: UnsafePointer<Float>, rows: Int,
        logits: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>
    ) {
        var input = inputs
        let last = layerCount - 1
        for layer in 0...last {
            let fanIn = widths[layer]
            let fanOut = widths[layer + 1]
            let output = layer == last ? logits : scratch + rows * hiddenPrefix[layer]
            // Z = A · W, split along k into small products for a mini-batch (see `smallProductParts`).
            let parts = Self.smallProductParts(rows: rows, columns: fanOut, depth: fanIn)
            var start = 0
            for part in 0..<parts {
                let end = fanIn * (part + 1) / parts
                BLAS.sgemm(
                    m: rows, n: fanOut, k: end - start, a: input + start, lda: fanIn,
                    b: parameters + weightOffsets[layer] + start * fanOut, beta: part == 0 ? 0 : 1, c: output)
                start = end
            }
            let bias = parameters + biasOffsets[layer]
            if layer == last {
                for row in 0..<rows {
                    let values = output + row * fanOut
                    for j in 0..<fanOut { values[j] += bias[j] }
                }
            } else {
                for row in 0..<rows { Self.addBiasReLU(output + row * fanOut, bias, count: fanOut) }
            }
            input = UnsafePointer(output)
        }
    }

    /// The backward pass: `target_W = beta * target_W + alpha * dW` for every layer (likewise
    /// for `b`), computing each layer's input delta before writing its weights, so `target` may
    /// be the parameters themselves (the fused SGD step). The first layer gets no input delta.
    @inline(__always)
    private func backward(
        parameters: UnsafePointer<Float>, inputs: UnsafePointer<Float>, rows: Int,
        outputDelta: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
        target: UnsafeMutablePointer<Float>, alpha: Float, beta: Float
    ) {
        let pingPongBase = scratch + rows * (hiddenTotal + classCount)
        let columnSums = pingPongBase + 2 * rows * maxHidden
        var delta = outputDelta
        for layer in stride(from: layerCount - 1, through: 0, by: -1) {
            let fanIn = widths[layer]
            let fanOut = widths[layer + 1]
            let previous: UnsafePointer<Float> =
                layer == 0 ? inputs : UnsafePointer(scratch + rows * hiddenPrefix[layer - 1])
            var previousDelta: UnsafeMutablePointer<Float>?
            if layer > 0 {
                // dA_{l-1} = dZ_l · W_lᵀ, before W_l may be overwritten below.
                let buffer = pingPongBase + (layer % 2) * rows * maxHidden
                BLAS.sgemm(
                    transposeB: true, m: rows, n: fanIn, k: fanOut,
                    a: delta, b: parameters + weightOffsets[layer], c: buffer)
                previousDelta = buffer
            }
            // dW_l = A_{l-1}ᵀ · dZ_l, split along the rows of dW_l for a mini-batch.
            let parts = Self.smallProductParts(rows: rows, columns: fanOut, depth: fanIn)
            var start = 0
            for part in 0..<parts {
                let end = fanIn * (part + 1) / parts
                BLAS.sgemm(
                    transposeA: true, m: end - start, n: fanOut, k: rows, alpha: alpha,
                    a: previous + start, lda: fanIn, b: delta, beta: beta,
                    c: target + weightOffsets[layer] + start * fanOut)
                start = end
            }
            // db_l = column sums of dZ_l
            for j in 0..<fanOut { columnSums[j] = 0 }
            for row in 0..<rows {
                let values = delta + row * fanOut
                for j in 0..<fanOut { columnSums[j] += values[j] }
            }
            let bias = target + biasOffsets[layer]
            if beta == 0 {
                for j in 0..<fanOut { bias[j] = alpha * columnSums[j] }
            } else {
                for j in 0..<fanOut { bias[j] = beta * bias[j] + alpha * columnSums[j] }
            }
            if let previousDelta {
                // dZ_{l-1} = dA_{l-1} ⊙ 1[A_{l-1} > 0]
                Self.maskByPositive(previousDelta, previous, count: rows * fanIn)
                delta = previousDelta
            }
        }
    }

    // MARK: - Model entry points

    func logits(
        parameters: UnsafeBufferPointer<Float>, inputs: UnsafeBufferPointer<Float>, rows: Int,
        into logits: UnsafeMutableBufferPointer<Float>, workspace: ModelWorkspace
    ) {
        check(parameters: parameters.count, inputs: inputs.count, rows: rows, workspace: workspace)
        precondition(logits.count >= rows * classCount, "logits buffer too small")
        guard rows > 0 else { return }
        forward(
            parameters: parameters.baseAddress!, inputs: inputs.baseAddress!, rows: rows,
            logits: logits.baseAddress!, scratch: workspace.storage.baseAddress!)
    }

    func lossAndGradient(
        parameters: UnsafeBufferPointer<Float>, inputs: UnsafeBufferPointer<Float>, labels: UnsafeBufferPointer<Int32>,
        gradient: UnsafeMutableBufferPointer<Float>, scale: Float, accumulate: Bool, workspace: ModelWorkspace
    ) -> Double {
        let rows = labels.count
        check(parameters: parameters.count, inputs: inputs.count, rows: rows, workspace: workspace)
        precondition(gradient.count == parameterCount, "gradient has \(gradient.count) values, model \(parameterCount)")
        guard rows > 0 else {
            if !accumulate { gradient.update(repeating: 0) }
            return 0
        }
        let scratch = workspace.storage.baseAddress!
        let logits = scratch + rows * hiddenTotal
        forward(
            parameters: parameters.baseAddress!, inputs: inputs.baseAddress!, rows: rows, logits: logits,
            scratch: scratch)
        let loss = SoftmaxCrossEntropy.loss(logits: logits, labels: labels.baseAddress!, rows: rows, classes: classCount, delta: true)
        backward(
            parameters: parameters.baseAddress!, inputs: inputs.baseAddress!, rows: rows, outputDelta: logits,
            scratch: scratch, target: gradient.baseAddress!, alpha: scale, beta: accumulate ? 1 : 0)
        return loss / Double(rows)
    }

    func sgdStep(
        parameters: UnsafeMutableBufferPointer<Float>, inputs: UnsafeBufferPointer<Float>,
        labels: UnsafeBufferPointer<Int32>, learningRate: Float, workspace: ModelWorkspace
    ) -> Double {
        let rows = labels.count
        check(parameters: parameters.count, inputs: inputs.count, rows: rows, workspace: workspace)
        guard rows > 0 else { return 0 }
        let scratch = workspace.storage.baseAddress!
        let logits = scratch + rows * hiddenTotal
        let weights = parameters.baseAddress!
        forward(parameters: weights, inputs: inputs.baseAddress!, rows: rows, logits: logits, scratch: scratch)
        let loss = SoftmaxCrossEntropy.loss(logits: logits, labels: labels.baseAddress!, rows: rows, classes: classCount, delta: true)
        backward(
            parameters: weights, inputs: inputs.baseAddress!, rows: rows, outputDelta: logits, scratch: scratch,
            target: weights, alpha: -learningRate, beta: 1)
        return loss / Double(rows)
    }

    /// `values[j] = max(values[j] + bias[j], 0)`, eight lanes at a time (fused bias + ReLU).
    /// NaN stays NaN (only values `< 0` are zeroed), so divergence remains visible.
    @inline(__always)
    static func addBiasReLU(_ values: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, count: Int) {
        let rawValues = UnsafeMutableRawPointer(values)
        let rawBias = UnsafeRawPointer(bias)
        var j = 0
        while j + 8 <= count {
            var v = rawValues.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
            v += rawBias.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
            v.replace(with: 0, where: v .< 0)
            rawValues.storeBytes(of: v, toByteOffset: j * 4, as: SIMD8<Float>.self)
            j += 8
        }
        while j < count {
            let v = values[j] + bias[j]
            values[j] = v < 0 ? 0 : v
            j += 1
        }
    }

    /// `delta[i] = activation[i] > 0 ? delta[i] : 0`, eight lanes at a time: the scalar form
    /// compiled to a branch that mispredicts on half the entries and cost more than the
    /// surrounding `sgemm` calls together.
    @inline(__always)
    static func maskByPositive(_ delta: UnsafeMutablePointer<Float>, _ activation: UnsafePointer<Float>, count: Int) {
        let rawDelta = UnsafeMutableRawPointer(delta)
        let rawActivation = UnsafeRawPointer(activation)
        var index = 0
        while index + 8 <= count {
            let a = rawActivation.loadUnaligned(fromByteOffset: index * 4, as: SIMD8<Float>.self)
            var d = rawDelta.loadUnaligned(fromByteOffset: index * 4, as: SIMD8<Float>.self)
            d.replace(with: 0, where: .!(a .> 0))
            rawDelta.storeBytes(of: d, toByteOffset: index * 4, as: SIMD8<Float>.self)
            index += 8
        }
        while index < count {
            let d = delta[index]
            delta[index] = activation[index] > 0 ? d : 0
            index += 1
        }
    }

    /// Into how many pieces to split a mini-batch product of `rows x depth` by `depth x columns`.
    ///
    /// OpenBLAS (0.3.2x, SkylakeX/Cooperlake kernels, which Zen 4 selects) multiplies products
    /// with `m·n·k ≤ 10⁶` by a "small matrix" kernel that skips operand packing. For a batch of
    /// 16-32 rows through a 784 x 100 layer (`≈ 2.5·10⁶`), three such pieces accumulated with
    /// `beta = 1` measured 20% faster than one call; from 64 rows on there was no gain, so larger
    /// batches (and evaluation chunks) stay in one call. Splitting only changes float rounding.
    @inline(__always)
    static func smallProductParts(rows: Int, columns: Int, depth: Int) -> Int {
        let volume = rows * columns * depth
        guard rows <= 32, volume > smallProductVolume else { return 1 }
        return min(depth, (volume + smallProductVolume - 1) / smallProductVolume)
    }

    private static let smallProductVolume = 1_000_000

    @inline(__always)
    private func check(parameters: Int, inputs: Int, rows: Int, workspace: ModelWorkspace) {
        precondition(parameters == parameterCount, "parameters have \(parameters) values, model \(parameterCount)")
        precondition(inputs >= rows * inputCount, "inputs hold fewer than \(rows) rows of \(inputCount)")
        precondition(
            workspace.storage.count >= workspaceSize(batchCapacity: rows),
            "workspace too small for \(rows) rows")
    }
}
