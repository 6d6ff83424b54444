import FedArenaCore
import FedArenaNumerics

/// Shape-checked conveniences over the unsafe batch methods, for callers that hold
/// `ParameterVector`s and `LabeledSamples` (tests, root-set gradients, attacks).
extension Model {
    /// Checks that `parameters` has this model's dimension.
    /// - Parameter parameters: a parameter vector or update.
    /// - Throws: ``ModelError/Code/parameterCountMismatch`` otherwise.
    public func validate(parameters: ParameterVector) throws(ModelError) {
        guard parameters.count == parameterCount else {
            throw ModelError(
                .parameterCountMismatch, "\(description) has \(parameterCount) parameters, got a vector of \(parameters.count)")
        }
    }

    /// Checks that `samples` fit this model: same feature count, every label in `0..<classCount`.
    /// - Parameter samples: the samples.
    /// - Throws: ``ModelError/Code/featureCountMismatch`` or ``ModelError/Code/labelOutOfRange``.
    public func validate(samples: LabeledSamples) throws(ModelError) {
        guard samples.featureCount == inputCount else {
            throw ModelError(
                .featureCountMismatch, "\(description) takes \(inputCount) features, the samples have \(samples.featureCount)")
        }
        let classes = Int32(classCount)
        if let bad = samples.labels.first(where: { $0 < 0 || $0 >= classes }) {
            throw ModelError(.labelOutOfRange, "label \(bad) is outside 0..<\(classCount) for \(description)")
        }
    }

    /// The logits of every row of `features`, computed in chunks.
    /// - Parameters:
    ///   - parameters: the model's parameters.
    ///   - features: row-major samples, a multiple of ``inputCount`` values.
    ///   - chunkSize: rows per forward pass.
    /// - Returns: `rows x classCount` logits, row-major.
    /// - Throws: ``ModelError`` when the shapes do not fit.
    public func logits(parameters: ParameterVector, features: [Float], chunkSize: Int = 1000) throws(ModelError) -> [Float] {
        try validate(parameters: parameters)
        guard features.count % inputCount == 0 else {
            throw ModelError(
                .featureCountMismatch, "\(features.count) values are not whole rows of \(inputCount) for \(description)")
        }
        let rows = features.count / inputCount
        let chunk = max(1, min(chunkSize, rows))
        let workspace = makeWorkspace(batchCapacity: chunk)
        var output = [Float](repeating: 0, count: rows * classCount)
        parameters.values.withUnsafeBufferPointer { weights in
            features.withUnsafeBufferPointer { inputs in
                output.withUnsafeMutableBufferPointer { out in
                    var start = 0
                    while start < rows {
                        let count = min(chunk, rows - start)
                        logits(
                            parameters: weights,
                            inputs: UnsafeBufferPointer(rebasing: inputs[(start * inputCount)...]),
                            rows: count,
                            into: UnsafeMutableBufferPointer(rebasing: out[(start * classCount)...]),
                            workspace: workspace)
                        start += count
                    }
                }
            }
        }
        return output
    }

    /// The predicted class (arg-max logit, first on ties) of every row of `features`.
    /// - Parameters:
    ///   - parameters: the model's parameters.
    ///   - features: row-major samples, a multiple of ``inputCount`` values.
    ///   - chunkSize: rows per forward pass.
    /// - Returns: one class index per row.
    /// - Throws: ``ModelError`` when the shapes do not fit.
    public func predict(parameters: ParameterVector, features: [Float], chunkSize: Int = 1000) throws(ModelError) -> [Int32] {
        let all = try logits(parameters: parameters, features: features, chunkSize: chunkSize)
        let rows = all.count / classCount
        return all.withUnsafeBufferPointer { buffer in
            (0..<rows).map { row in
                Int32(VectorMath.argmax(UnsafeBufferPointer(rebasing: buffer[(row * classCount)..<((row + 1) * classCount)])))
            }
        }
    }

    /// The mean cross-entropy over all of `samples` (one batch) and its gradient.
    /// - Parameters:
    ///   - parameters: the model's parameters.
    ///   - samples: the batch.
    /// - Returns: the mean loss and the gradient of the mean loss, in the parameter layout.
    /// - Throws: ``ModelError`` when the shapes or labels do not fit the model.
    public func lossAndGradient(
        parameters: ParameterVector, on samples: LabeledSamples
    ) throws(ModelError) -> (loss: Double, gradient: ParameterVector) {
        try validate(parameters: parameters)
        try validate(samples: samples)
        let workspace = makeWorkspace(batchCapacity: max(samples.count, 1))
        var gradient = [Float](repeating: 0, count: parameterCount)
        let loss = parameters.values.withUnsafeBufferPointer { weights in
            samples.features.withUnsafeBufferPointer { inputs in
                samples.labels.withUnsafeBufferPointer { labels in
                    gradient.withUnsafeMutableBufferPointer { out in
                        lossAndGradient(
                            parameters: weights, inputs: inputs, labels: labels, gradient: out, scale: 1,
                            accumulate: false, workspace: workspace)
                    }
                }
            }
        }
        return (loss, ParameterVector(gradient))
    }
}
