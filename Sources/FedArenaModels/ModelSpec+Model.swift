import FedArenaCore

extension ModelSpec {
    /// Builds the model this specification names for samples of the given shape.
    /// - Parameters:
    ///   - inputShape: one sample's shape from the dataset: `[channels, height, width]` for
    ///     images (`[1, 28, 28]` for Fashion-MNIST; `[height, width]` is one channel) or
    ///     `[features]` for tabular data. The dense models take its flattened size.
    ///   - classes: the number of classes.
    /// - Returns: an ``MLP`` without hidden layers for `.softmax` (softmax regression), an ``MLP``
    ///   for `.mlp(hidden:)`, a ``ConvolutionalNetwork`` for `.cnn(layers:)`.
    /// - Throws: ``ModelError/Code/invalidConfiguration`` for a non-positive width or a layer that
    ///   cannot take its input (a convolution on tabular data, a kernel larger than the image).
    public func makeModel(inputShape: [Int], classes: Int) throws(ModelError) -> any Model {
        guard !inputShape.isEmpty, inputShape.allSatisfy({ $0 > 0 }) else {
            throw ModelError(.invalidConfiguration, "a sample's shape must have positive sizes, got \(inputShape)")
        }
        let features = inputShape.reduce(1, *)
        switch self {
        case .softmax: return try MLP(inputs: features, hidden: [], classes: classes)
        case .mlp(let hidden): return try MLP(inputs: features, hidden: hidden, classes: classes)
        case .cnn(let layers): return try ConvolutionalNetwork(inputShape: inputShape, layers: layers, classes: classes)
        }
    }

    /// Builds the model for flat samples of `inputs` features: `makeModel(inputShape: [inputs], classes:)`.
    ///
    /// A `.cnn` model needs the image shape: use ``makeModel(inputShape:classes:)``.
    /// - Parameters:
    ///   - inputs: features per sample (784 for Fashion-MNIST).
    ///   - classes: the number of classes.
    /// - Returns: the model.
    /// - Throws: ``ModelError/Code/invalidConfiguration`` for a non-positive width, or for a
    ///   `.cnn` whose first spatial layer cannot take a flat input.
    public func makeModel(inputs: Int = 784, classes: Int = 10) throws(ModelError) -> any Model {
        try makeModel(inputShape: [inputs], classes: classes)
    }
}
