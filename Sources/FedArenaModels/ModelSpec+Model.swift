import FedArenaCore

extension ModelSpec {
    /// Builds the model this specification names.
    /// - Parameters:
    ///   - inputs: features per sample (784 for Fashion-MNIST).
    ///   - classes: the number of classes.
    /// - Returns: a ``SoftmaxRegression`` for `.softmax`, an ``MLP`` for `.mlp(hidden:)`.
    /// - Throws: ``ModelError/Code/invalidConfiguration`` for a non-positive width.
    public func makeModel(inputs: Int = 784, classes: Int = 10) throws(ModelError) -> any Model {
        switch self {
        case .softmax: try SoftmaxRegression(inputs: inputs, classes: classes)
        case .mlp(let hidden): try MLP(inputs: inputs, hidden: hidden, classes: classes)
        }
    }
}
