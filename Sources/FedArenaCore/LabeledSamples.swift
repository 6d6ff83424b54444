/// A labelled sample set held in memory: row-major features and integer class labels.
///
/// Images are stored as `count x featureCount` float32 values in [0, 1] (pixels / 255).
public struct LabeledSamples: Sendable, Equatable {
    /// Row-major features, `count * featureCount` values.
    public var features: [Float]
    /// One class index per sample, in `0..<classCount`.
    public var labels: [Int32]
    /// Values per sample (784 for 28x28 images).
    public var featureCount: Int
    /// The number of classes.
    public var classCount: Int

    /// Creates a sample set.
    /// - Precondition: `features.count == labels.count * featureCount`.
    public init(features: [Float], labels: [Int32], featureCount: Int, classCount: Int) {
        precondition(features.count == labels.count * featureCount, "features and labels disagree")
        self.features = features
        self.labels = labels
        self.featureCount = featureCount
        self.classCount = classCount
    }

    /// The number of samples.
    public var count: Int { labels.count }

    /// The samples at `indices`, in that order.
    public func subset(_ indices: some Collection<Int>) -> LabeledSamples {
        var newFeatures = [Float]()
        newFeatures.reserveCapacity(indices.count * featureCount)
        var newLabels = [Int32]()
        newLabels.reserveCapacity(indices.count)
        features.withUnsafeBufferPointer { source in
            for index in indices {
                newFeatures.append(contentsOf: source[(index * featureCount)..<((index + 1) * featureCount)])
                newLabels.append(labels[index])
            }
        }
        return LabeledSamples(features: newFeatures, labels: newLabels, featureCount: featureCount, classCount: classCount)
    }

    /// How many samples of each class.
    public var classHistogram: [Int] {
        var histogram = [Int](repeating: 0, count: classCount)
        for label in labels { histogram[Int(label)] += 1 }
        return histogram
    }
}
