import FedArenaCore
import FedArenaNumerics

/// The samples of a ``LabeledSamples`` grouped by class, and helpers every generator shares.
struct ClassSplit {
    /// Row-major features of each class (`counts[c] x featureCount`).
    var features: [[Float]]
    /// Samples per class.
    var counts: [Int]
    let featureCount: Int

    init(_ samples: LabeledSamples) {
        featureCount = samples.featureCount
        var features = [[Float]](repeating: [], count: samples.classCount)
        var counts = [Int](repeating: 0, count: samples.classCount)
        for label in samples.labels { counts[Int(label)] += 1 }
        for c in 0..<samples.classCount { features[c].reserveCapacity(counts[c] * samples.featureCount) }
        samples.features.withUnsafeBufferPointer { source in
            for (row, label) in samples.labels.enumerated() {
                let start = row * samples.featureCount
                features[Int(label)].append(contentsOf: source[start..<(start + samples.featureCount)])
            }
        }
        self.features = features
        self.counts = counts
    }

    /// Checks what every generator needs of its training data.
    /// - Throws: ``GeneratorError`` for an empty set, a label out of range, or non-finite features.
    static func validate(_ samples: LabeledSamples, generator: String) throws(GeneratorError) {
        guard samples.count > 0 else { throw GeneratorError("\(generator): cannot fit on an empty sample set") }
        guard samples.featureCount > 0, samples.classCount > 0 else {
            throw GeneratorError("\(generator): need at least one feature and one class, got \(samples.featureCount) features, \(samples.classCount) classes")
        }
        if let bad = samples.labels.firstIndex(where: { $0 < 0 || Int($0) >= samples.classCount }) {
            throw GeneratorError("\(generator): sample \(bad) has label \(samples.labels[bad]), outside 0..<\(samples.classCount)")
        }
        if let bad = samples.features.firstIndex(where: { !$0.isFinite }) {
            throw GeneratorError("\(generator): feature \(bad % samples.featureCount) of sample \(bad / samples.featureCount) is not finite")
        }
    }
}

/// How a generator decides which labels to draw; shared by every ``Generator`` here.
enum LabelPlan {
    /// The label of each of `count` draws: `label` for all, or classes drawn with probability
    /// proportional to `classCounts` (the fitted class frequencies).
    /// - Throws: ``GeneratorError`` for a negative count, an unknown class or one that was not fitted.
    static func labels(
        count: Int, label: Int?, classCounts: [Int], fitted: [Bool], generator: String,
        using rng: inout some RandomNumberGenerator
    ) throws(GeneratorError) -> [Int32] {
        guard !classCounts.isEmpty else { throw GeneratorError("\(generator): sample called before fit") }
        guard count >= 0 else { throw GeneratorError("\(generator): cannot draw \(count) samples") }
        if let label {
            guard label >= 0, label < classCounts.count else {
                throw GeneratorError("\(generator): class \(label) is outside 0..<\(classCounts.count)")
            }
            guard fitted[label] else {
                throw GeneratorError("\(generator): class \(label) had no samples at fit time, so it cannot be drawn")
            }
            return [Int32](repeating: Int32(label), count: count)
        }
        let weights = classCounts.enumerated().map { fitted[$0.offset] ? Double($0.element) : 0 }
        return (0..<count).map { _ in Int32(rng.categoricalIndex(weights)) }
    }

    /// Clips every value to [0, 1] (NaN becomes 0).
    static func clip(_ values: inout [Float]) {
        for i in values.indices {
            let v = values[i]
            values[i] = v > 0 ? (v < 1 ? v : 1) : 0
        }
    }
}
