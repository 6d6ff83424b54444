/// What a dataset holds, known before its samples are read: the shape of one sample, the class
/// count and the sizes of the two splits (after `train_subset` / `test_subset`).
public struct DatasetDescription: Sendable, Equatable {
    /// One sample's shape: `[channels, height, width]` for images, `[features]` for tabular data.
    public var shape: [Int]
    /// The number of classes; every label is in `0..<classCount`.
    public var classCount: Int
    /// Training samples.
    public var trainCount: Int
    /// Test samples.
    public var testCount: Int

    /// Creates a description.
    /// - Parameters:
    ///   - shape: One sample's shape.
    ///   - classCount: The number of classes.
    ///   - trainCount: Training samples.
    ///   - testCount: Test samples.
    public init(shape: [Int], classCount: Int, trainCount: Int, testCount: Int) {
        self.shape = shape
        self.classCount = classCount
        self.trainCount = trainCount
        self.testCount = testCount
    }

    /// Values per sample: the product of ``shape``.
    public var featureCount: Int { shape.reduce(1, *) }
}
