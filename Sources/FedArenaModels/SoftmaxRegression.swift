/// Multinomial logistic regression, `z = x W + b` with softmax cross-entropy: an ``MLP`` without
/// hidden layers (the name stays so that call sites read as what they build).
///
/// Parameter layout: `W` (`inputs x classes`, row-major) then `b` (`classes`); 7,850 values for
/// 784 → 10. Initialisation as every ``MLP`` layer: `W ~ N(0, 2/inputs)` (He et al. 2015), `b = 0`,
/// so a softmax scenario and an MLP scenario draw their first layer the same way.
public typealias SoftmaxRegression = MLP

extension MLP {
    /// Creates a softmax regression: an MLP without hidden layers.
    /// - Parameters:
    ///   - inputs: features per sample.
    ///   - classes: the number of classes.
    /// - Throws: ``ModelError/Code/invalidConfiguration`` when a size is not positive.
    public init(inputs: Int = 784, classes: Int = 10) throws(ModelError) {
        try self.init(inputs: inputs, hidden: [], classes: classes)
    }
}
