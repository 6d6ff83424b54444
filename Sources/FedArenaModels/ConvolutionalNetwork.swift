import FedArenaCore
import FedArenaNumerics

/// A layered network — convolutions, max-pooling, ReLU, dense and dropout layers — ending in a
/// dense layer to the class count, trained with softmax cross-entropy.
///
/// ```swift
/// let cnn = try ConvolutionalNetwork(inputShape: [1, 28, 28], layers: LayerSpec.fltrustCNN, classes: 10)
/// cnn.parameterCount  // 139,960
/// ```
///
/// **Data.** A sample is `inputCount` values in the data's `channels x height x width` order
/// (NumPy C order). Inside, tensors are batch first and channels last (NHWC): the network
/// reorders samples of more than one channel first (one channel needs no reordering), and a
/// dense layer after an image reads it in `height x width x channels` order.
///
/// **Parameters** are one flat vector: every listed layer's parameters in order, then the
/// classifier's. A convolution stores `W` (`kernel x kernel x inChannels x outChannels`) then
/// `b` (`outChannels`); a dense layer `W` (`inputs x units`) then `b` (`units`), as ``MLP``.
/// Initialisation: He normal (He et al. 2015, "Delving deep into rectifiers", §2.2), `W ~
/// N(0, 2/fan_in)` with `fan_in = kernel² · inChannels` or `inputs`, drawn layer by layer in
/// the layout order, each draw `Float(normal() * sqrt(2/fan_in))`; biases 0.
///
/// **Training randomness.** Dropout draws its masks from ``ModelWorkspace/trainingGenerator``
/// (which ``LocalTrainer`` sets to each epoch's generator after the shuffle); with no generator
/// it is the identity, so ``logits(parameters:inputs:rows:into:workspace:)`` and a workspace
/// without a generator evaluate the deterministic network.
///
/// **Speed.** A convolution is im2col + `sgemm`. The layers before the first dense (or dropout)
/// layer run over blocks of a few samples, forward and backward, so that each block's
/// activations and patches stay in the L2 cache: memory traffic, not arithmetic, bounds a small
/// CNN on a CPU. A ReLU right before a max-pool is folded into the pool (the same values and
/// gradients, computed on the pooled tensor). Batches of more than ``chunkRows`` rows are processed in chunks, so a workspace
/// stays small however many rows an evaluation passes at once; the gradient of such a batch is
/// the row-weighted sum of the chunks' gradients (the same value up to float rounding).
public struct ConvolutionalNetwork: Model, Equatable {
    /// One sample's shape: `[channels, height, width]` or `[features]` (`[height, width]` is
    /// read as one channel).
    public let inputShape: [Int]
    /// The listed (hidden) layers.
    public let layers: [LayerSpec]
    /// The number of classes.
    public let classes: Int
    /// The shape after each listed layer.
    public let layerShapes: [[Int]]
    public let parameterCount: Int

    /// The layers that run, the classifier last (and a reordering first for multi-channel input).
    let network: [any NetworkLayer]
    /// Where each layer's parameters start in the flat vector.
    let parameterOffsets: [Int]
    /// The activation buffer each layer reads and writes; buffer 0 is the caller's input.
    let inputBuffers: [Int]
    let outputBuffers: [Int]
    /// `bufferOffsets[b]` = floats per row before activation buffer `b` (`b >= 1`) in the workspace.
    let bufferOffsets: [Int]
    /// Floats per row of all activation buffers.
    let activationsPerRow: Int
    /// The largest tensor (floats per row): each of the two delta buffers holds one.
    let largestTensor: Int
    /// The leading layers (up to the first dense or dropout layer) that run over blocks of
    /// ``segmentBlock`` samples, so that a block's activations stay in the cache from one layer
    /// to the next; the rest runs on the whole pass.
    let segmentEnd: Int
    /// Samples per block of the leading layers: their largest activation fills about 256 KiB.
    let segmentBlock: Int

    /// Rows per forward/backward pass; larger batches are split.
    public static let chunkRows = 128

    /// Builds the network.
    /// - Parameters:
    ///   - inputShape: one sample's shape, `[channels, height, width]`, `[height, width]` (one
    ///     channel) or `[features]`.
    ///   - layers: the hidden layers in order; a dense layer to `classes` is appended.
    ///   - classes: the number of classes.
    /// - Throws: ``ModelError/Code/invalidConfiguration`` naming the layer that cannot take its
    ///   input shape (or an impossible value of it).
    public init(inputShape given: [Int], layers: [LayerSpec], classes: Int) throws(ModelError) {
        let inputShape = given.count == 2 ? [1] + given : given
        let shapes: [[Int]]
        do throws(ConfigError) {
            shapes = try ModelSpec.cnn(layers: layers).layerShapes(inputShape: inputShape, classes: classes)
        } catch {
            throw ModelError(.invalidConfiguration, "cnn on \(LayerSpec.describe(inputShape)) inputs: \(error)")
        }
        self.inputShape = inputShape
        self.layers = layers
        self.classes = classes
        layerShapes = shapes

        var network = [any NetworkLayer]()
        var shape = inputShape
        var seenParameters = false
        if inputShape.count == 3 && inputShape[0] > 1 {
            network.append(ChannelsLast(channels: inputShape[0], height: inputShape[1], width: inputShape[2]))
        }
        for (index, (layer, output)) in zip(layers, shapes).enumerated() {
            let size = shape.reduce(1, *)
            let beforePool = index + 1 < layers.count && { if case .maxPool = layers[index + 1] { true } else { false } }()
            let afterReLU = index > 0 && layers[index - 1] == .relu
            switch layer {
            case .conv(let kernel, let channels, let stride, let padding):
                network.append(
                    Convolution(
                        input: shape, kernel: kernel, channels: channels, stride: stride, padding: padding,
                        propagatesDelta: seenParameters))
                seenParameters = true
            case .maxPool(let window, let stride):
                network.append(MaxPool(input: shape, size: window, stride: stride, rectified: afterReLU))
            case .relu:
                // Folded into the pool that follows (see `MaxPool`).
                if !beforePool { network.append(ReLU(size: size, isInPlace: network.contains { !$0.isInPlace })) }
            case .dense(let units):
                network.append(Dense(inputs: size, units: units, propagatesDelta: seenParameters))
                seenParameters = true
            case .dropout(let rate): network.append(Dropout(size: size, rate: rate))
            case .flatten: network.append(Flatten(size: size))
            }
            shape = output
        }
        network.append(Dense(inputs: shape.reduce(1, *), units: classes, propagatesDelta: seenParameters))
        self.network = network

        var offsets = [Int]()
        var total = 0
        for layer in network {
            offsets.append(total)
            total += layer.parameterCount
        }
        parameterOffsets = offsets
        parameterCount = total

        var inputs = [Int]()
        var outputs = [Int]()
        var bufferOffsets = [0]
        var perRow = 0
        var current = 0
        var largest = network[0].inputSize
        for layer in network {
            inputs.append(current)
            if !layer.isInPlace {
                bufferOffsets.append(perRow)
                perRow += layer.outputSize
                current = bufferOffsets.count - 1
            }
            outputs.append(current)
            largest = max(largest, layer.outputSize)
        }
        inputBuffers = inputs
        outputBuffers = outputs
        self.bufferOffsets = bufferOffsets
        activationsPerRow = perRow
        largestTensor = largest
        let end = network.firstIndex { $0 is Dense || $0 is Dropout } ?? network.count
        segmentEnd = end
        segmentBlock = max(1, 65_536 / (network[0..<end].map(\.outputSize).max() ?? 1))
    }

    public var description: String {
        "cnn(" + LayerSpec.describe(inputShape) + " " + layers.map(\.description).joined(separator: "-") + " →\(classes))"
    }
    public var inputCount: Int { inputShape.reduce(1, *) }
    public var classCount: Int { classes }

    public static func == (lhs: ConvolutionalNetwork, rhs: ConvolutionalNetwork) -> Bool {
        lhs.inputShape == rhs.inputShape && lhs.layers == rhs.layers && lhs.classes == rhs.classes
    }

    /// Floating-point operations (2 per multiply-add) of the matrix products in one training step
    /// of `rows` samples, forward and backward: what a GFLOP/s figure divides.
    /// - Parameter rows: the batch size.
    /// - Returns: the operation count.
    public func trainingFLOPs(rows: Int) -> Double {
        network.reduce(0) { $0 + $1.trainingFLOPs(rows: rows) }
    }

    public func initialParameters(using generator: inout SeededGenerator) -> ParameterVector {
        var values = [Float](repeating: 0, count: parameterCount)
        values.withUnsafeMutableBufferPointer { buffer in
            for (layer, offset) in zip(network, parameterOffsets) where layer.parameterCount > 0 {
                layer.initialize(buffer.baseAddress! + offset, using: &generator)
            }
        }
        return ParameterVector(values)
    }

    // MARK: - Workspace layout

    /// Floats for one pass of `rows` rows: activations, each layer's saved scratch, two delta
    /// buffers, the largest temporary, and the leading layers' gradient when they run in more
    /// than one block.
    private func passSize(rows: Int) -> Int {
        var saved = 0
        var temporary = 0
        for layer in network {
            saved += layer.savedCount(rows: rows)
            temporary = max(temporary, layer.temporaryCount(rows: rows))
        }
        return rows * (activationsPerRow + 2 * largestTensor) + saved + temporary + segmentScratch(rows: rows)
    }

    /// The leading layers' two block delta buffers, and their gradient over several blocks.
    private func segmentScratch(rows: Int) -> Int {
        2 * min(rows, segmentBlock) * largestTensor + (rows > segmentBlock ? parameterOffsets[segmentEnd] : 0)
    }

    public func workspaceSize(batchCapacity: Int) -> Int {
        let rows = min(batchCapacity, Self.chunkRows)
        return passSize(rows: rows) + (batchCapacity > Self.chunkRows ? parameterCount : 0)
    }

    /// The regions of one pass of `rows` rows (offsets depend on `rows`, so small batches stay compact).
    private struct Regions {
        let activations: UnsafeMutablePointer<Float>
        let saved: UnsafeMutablePointer<Float>
        let deltas: UnsafeMutablePointer<Float>
        let temporary: UnsafeMutablePointer<Float>
        /// Two buffers of a block's deltas inside the leading layers (the chunk's delta buffers
        /// still hold the deltas of the blocks to come).
        let blockDeltas: UnsafeMutablePointer<Float>
        let segmentGradient: UnsafeMutablePointer<Float>
    }

    private func regions(rows: Int, storage: UnsafeMutablePointer<Float>) -> Regions {
        var saved = 0
        var temporary = 0
        for layer in network {
            saved += layer.savedCount(rows: rows)
            temporary = max(temporary, layer.temporaryCount(rows: rows))
        }
        let savedStart = storage + rows * activationsPerRow
        let deltas = savedStart + saved
        let scratch = deltas + 2 * rows * largestTensor
        let blockDeltas = scratch + temporary
        return Regions(
            activations: storage, saved: savedStart, deltas: deltas, temporary: scratch, blockDeltas: blockDeltas,
            segmentGradient: blockDeltas + 2 * min(rows, segmentBlock) * largestTensor)
    }

    /// The memory of layer `index` for rows `start..<start + count` of a pass of `rows` rows;
    /// `saved` is where the layer's saved scratch for the whole pass begins.
    @inline(__always)
    private func pass(
        _ index: Int, rows: Int, start: Int, count: Int, parameters: UnsafePointer<Float>, inputs: UnsafePointer<Float>,
        regions: Regions, saved: UnsafeMutablePointer<Float>
    ) -> LayerPass {
        let layer = network[index]
        func buffer(_ b: Int) -> UnsafeMutablePointer<Float> {
            b == 0 ? UnsafeMutablePointer(mutating: inputs) : regions.activations + rows * bufferOffsets[b]
        }
        return LayerPass(
            rows: count, parameters: parameters + parameterOffsets[index],
            input: buffer(inputBuffers[index]) + start * layer.inputSize,
            output: buffer(outputBuffers[index]) + start * layer.outputSize,
            saved: saved + layer.savedCount(rows: start), temporary: regions.temporary)
    }

    private func logitsBuffer(inputs: UnsafePointer<Float>, rows: Int, regions: Regions) -> UnsafeMutablePointer<Float> {
        regions.activations + rows * bufferOffsets[outputBuffers[network.count - 1]]
    }

    // MARK: - Passes

    /// The forward pass of one chunk; the logits land in the last activation buffer.
    private func forward(
        parameters: UnsafePointer<Float>, inputs: UnsafePointer<Float>, rows: Int, regions: Regions,
        randomness: inout SeededGenerator?
    ) {
        var start = 0
        while segmentEnd > 0 && start < rows {
            let count = min(segmentBlock, rows - start)
            var saved = regions.saved
            for index in 0..<segmentEnd {
                let layer = network[index]
                layer.forward(
                    pass(index, rows: rows, start: start, count: count, parameters: parameters, inputs: inputs, regions: regions, saved: saved),
                    randomness: &randomness)
                saved += layer.savedCount(rows: rows)
            }
            start += count
        }
        var saved = regions.saved
        for index in 0..<segmentEnd { saved += network[index].savedCount(rows: rows) }
        for index in segmentEnd..<network.count {
            let layer = network[index]
            layer.forward(
                pass(index, rows: rows, start: 0, count: rows, parameters: parameters, inputs: inputs, regions: regions, saved: saved),
                randomness: &randomness)
            saved += layer.savedCount(rows: rows)
        }
    }

    /// The backward pass of one chunk from the output delta in the logits buffer:
    /// `target = beta * target + alpha * gradient`, layer by layer from the top. Over several
    /// blocks the leading layers' gradient is summed in scratch and applied at the end, so every
    /// block's input deltas see the weights before a fused SGD step.
    private func backward(
        parameters: UnsafePointer<Float>, inputs: UnsafePointer<Float>, rows: Int, regions: Regions,
        target: UnsafeMutablePointer<Float>, alpha: Float, beta: Float
    ) {
        var saved = regions.saved
        for layer in network { saved += layer.savedCount(rows: rows) }
        var delta = logitsBuffer(inputs: inputs, rows: rows, regions: regions)
        var spare = 0
        for index in (segmentEnd..<network.count).reversed() {
            let layer = network[index]
            saved -= layer.savedCount(rows: rows)
            var inputDelta: UnsafeMutablePointer<Float>?
            if parameterOffsets[index] > 0 {
                inputDelta = layer.isInPlace ? delta : regions.deltas + spare * rows * largestTensor
            }
            layer.backward(
                pass(index, rows: rows, start: 0, count: rows, parameters: parameters, inputs: inputs, regions: regions, saved: saved),
                outputDelta: delta, inputDelta: inputDelta, target: target + parameterOffsets[index], alpha: alpha, beta: beta)
            guard let inputDelta else { return }
            if !layer.isInPlace { spare = 1 - spare }
            delta = inputDelta
        }
        guard segmentEnd > 0 else { return }
        let blocks = rows > segmentBlock
        let segmentTarget = blocks ? regions.segmentGradient : target
        let top = network[segmentEnd - 1].outputSize
        let blockRows = min(rows, segmentBlock)
        var start = 0
        while start < rows {
            let count = min(segmentBlock, rows - start)
            var blockDelta = delta + start * top
            var blockSpare = 0
            var blockSaved = saved
            for index in (0..<segmentEnd).reversed() {
                let layer = network[index]
                blockSaved -= layer.savedCount(rows: rows)
                var inputDelta: UnsafeMutablePointer<Float>?
                if parameterOffsets[index] > 0 {
                    inputDelta = layer.isInPlace ? blockDelta : regions.blockDeltas + blockSpare * blockRows * largestTensor
                }
                layer.backward(
                    pass(index, rows: rows, start: start, count: count, parameters: parameters, inputs: inputs, regions: regions, saved: blockSaved),
                    outputDelta: blockDelta, inputDelta: inputDelta, target: segmentTarget + parameterOffsets[index],
                    alpha: blocks ? 1 : alpha, beta: blocks ? (start == 0 ? 0 : 1) : beta)
                guard let inputDelta else { break }
                if !layer.isInPlace { blockSpare = 1 - blockSpare }
                blockDelta = inputDelta
            }
            start += count
        }
        if blocks {
            VectorKernels.scaleAndAdd(
                target: target, beta: beta, alpha: alpha, source: regions.segmentGradient, count: parameterOffsets[segmentEnd])
        }
    }

    /// Loss and `target = beta * target + alpha * gradient` over a batch, chunk by chunk.
    /// - Returns: the mean loss.
    private func gradientPass(
        parameters: UnsafePointer<Float>, inputs: UnsafePointer<Float>, labels: UnsafePointer<Int32>, rows: Int,
        target: UnsafeMutablePointer<Float>, alpha: Float, beta: Float, workspace: ModelWorkspace
    ) -> Double {
        let storage = workspace.storage.baseAddress!
        var randomness = workspace.trainingGenerator
        var total = 0.0
        var start = 0
        while start < rows {
            let count = min(Self.chunkRows, rows - start)
            let regions = regions(rows: count, storage: storage)
            let chunkInputs = inputs + start * inputCount
            forward(parameters: parameters, inputs: chunkInputs, rows: count, regions: regions, randomness: &randomness)
            total += SoftmaxCrossEntropy.loss(
                logits: logitsBuffer(inputs: chunkInputs, rows: count, regions: regions), labels: labels + start, rows: count,
                classes: classes, delta: true)
            let weight = count == rows ? alpha : alpha * Float(count) / Float(rows)
            backward(
                parameters: parameters, inputs: chunkInputs, rows: count, regions: regions, target: target, alpha: weight,
                beta: start == 0 ? beta : 1)
            start += count
        }
        workspace.trainingGenerator = randomness
        return total / Double(rows)
    }

    // MARK: - Model entry points

    public func logits(
        parameters: UnsafeBufferPointer<Float>, inputs: UnsafeBufferPointer<Float>, rows: Int,
        into logits: UnsafeMutableBufferPointer<Float>, workspace: ModelWorkspace
    ) {
        check(parameters: parameters.count, inputs: inputs.count, rows: rows, workspace: workspace, gradient: false)
        precondition(logits.count >= rows * classes, "logits buffer too small")
        guard rows > 0 else { return }
        let storage = workspace.storage.baseAddress!
        var none: SeededGenerator? = nil
        var start = 0
        while start < rows {
            let count = min(Self.chunkRows, rows - start)
            let regions = regions(rows: count, storage: storage)
            let chunkInputs = inputs.baseAddress! + start * inputCount
            forward(parameters: parameters.baseAddress!, inputs: chunkInputs, rows: count, regions: regions, randomness: &none)
            (logits.baseAddress! + start * classes).update(
                from: logitsBuffer(inputs: chunkInputs, rows: count, regions: regions), count: count * classes)
            start += count
        }
    }

    public func lossAndGradient(
        parameters: UnsafeBufferPointer<Float>, inputs: UnsafeBufferPointer<Float>, labels: UnsafeBufferPointer<Int32>,
        gradient: UnsafeMutableBufferPointer<Float>, scale: Float, accumulate: Bool, workspace: ModelWorkspace
    ) -> Double {
        let rows = labels.count
        check(parameters: parameters.count, inputs: inputs.count, rows: rows, workspace: workspace, gradient: false)
        precondition(gradient.count == parameterCount, "gradient has \(gradient.count) values, model \(parameterCount)")
        guard rows > 0 else {
            if !accumulate { gradient.update(repeating: 0) }
            return 0
        }
        return gradientPass(
            parameters: parameters.baseAddress!, inputs: inputs.baseAddress!, labels: labels.baseAddress!, rows: rows,
            target: gradient.baseAddress!, alpha: scale, beta: accumulate ? 1 : 0, workspace: workspace)
    }

    public func sgdStep(
        parameters: UnsafeMutableBufferPointer<Float>, inputs: UnsafeBufferPointer<Float>,
        labels: UnsafeBufferPointer<Int32>, learningRate: Float, workspace: ModelWorkspace
    ) -> Double {
        let rows = labels.count
        check(parameters: parameters.count, inputs: inputs.count, rows: rows, workspace: workspace, gradient: true)
        guard rows > 0 else { return 0 }
        let weights = parameters.baseAddress!
        if rows <= Self.chunkRows {
            // Fused: each layer adds -lr·dW straight into its weights after computing its input delta.
            return gradientPass(
                parameters: weights, inputs: inputs.baseAddress!, labels: labels.baseAddress!, rows: rows, target: weights,
                alpha: -learningRate, beta: 1, workspace: workspace)
        }
        // Chunks all need the weights before the step: collect the gradient, then step.
        let gradient = workspace.storage.baseAddress! + passSize(rows: Self.chunkRows)
        let loss = gradientPass(
            parameters: weights, inputs: inputs.baseAddress!, labels: labels.baseAddress!, rows: rows, target: gradient,
            alpha: 1, beta: 0, workspace: workspace)
        BLAS.saxpy(count: parameterCount, alpha: -learningRate, x: gradient, y: weights)
        return loss
    }

    @inline(__always)
    private func check(parameters: Int, inputs: Int, rows: Int, workspace: ModelWorkspace, gradient: Bool) {
        precondition(parameters == parameterCount, "parameters have \(parameters) values, model \(parameterCount)")
        precondition(inputs >= rows * inputCount, "inputs hold fewer than \(rows) rows of \(inputCount)")
        let needed = gradient ? workspaceSize(batchCapacity: rows) : workspaceSize(batchCapacity: min(rows, Self.chunkRows))
        precondition(workspace.storage.count >= needed, "workspace too small for \(rows) rows")
    }
}
