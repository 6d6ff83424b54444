import FedArenaCore

/// Recursive training on generated data ("model collapse"; Shumailov et al. 2024, "AI models
/// collapse when trained on recursively generated data", Nature 631): generation 1 is fitted on
/// the real samples, generation `g > 1` on `samplesPerClass` samples per class drawn from
/// generation `g − 1`. Each generation's per-class variance (the mean over features of the
/// per-feature sample variance, i.e. `tr Σ_c / d`) shows the tails vanishing.
public enum RecursiveGeneration {
    /// One generation's output.
    public struct Generation: Sendable, Equatable {
        /// 1 for the model fitted on real data.
        public var index: Int
        /// `samplesPerClass` samples of every fitted class, drawn from this generation.
        public var samples: LabeledSamples
        /// Per class, `tr Σ_c / d` of ``samples`` (`nil` for a class not drawn).
        public var classVariance: [Double?]
    }

    /// Fits `generations` generations, each on the previous one's samples.
    /// - Parameters:
    ///   - generator: the unfitted generator, copied for every generation.
    ///   - data: the real samples generation 1 is fitted on.
    ///   - generations: how many, ≥ 1.
    ///   - samplesPerClass: samples per class each generation draws, ≥ 2.
    ///   - temperature: the sampling temperature.
    ///   - rng: the source of randomness for every fit and draw, in generation order.
    /// - Returns: generation 1...`generations`, in order.
    /// - Throws: ``SynthesisError`` `.invalidArgument` for bad counts, `.generatorFailed` with the
    ///   generation number when a fit or draw fails.
    public static func run(
        generator: any Generator, data: LabeledSamples, generations: Int, samplesPerClass: Int, temperature: Double = 1,
        rng: inout some RandomNumberGenerator
    ) throws(SynthesisError) -> [Generation] {
        guard generations >= 1, samplesPerClass >= 2 else {
            throw SynthesisError(.invalidArgument, "recursive generation needs generations ≥ 1 and samplesPerClass ≥ 2, got \(generations) and \(samplesPerClass)")
        }
        var training = data
        var result = [Generation]()
        for index in 1...generations {
            var model = generator
            do throws(GeneratorError) {
                try model.fit(training, using: &rng)
                var drawn = LabeledSamples(features: [], labels: [], featureCount: data.featureCount, classCount: data.classCount)
                for c in 0..<data.classCount where training.classHistogram[c] > 0 {
                    let part = try model.sample(count: samplesPerClass, label: c, temperature: temperature, using: &rng)
                    drawn.features += part.features
                    drawn.labels += part.labels
                }
                result.append(Generation(index: index, samples: drawn, classVariance: classVariance(drawn)))
                training = drawn
            } catch {
                throw SynthesisError(.generatorFailed, "generation \(index): \(error.message)")
            }
        }
        return result
    }

    /// Per class, the mean over features of the unbiased per-feature variance (`nil` for a
    /// class with fewer than two samples).
    public static func classVariance(_ samples: LabeledSamples) -> [Double?] {
        let d = samples.featureCount
        var sums = [[Double]](repeating: [Double](repeating: 0, count: d), count: samples.classCount)
        var squares = sums
        let counts = samples.classHistogram
        for (row, label) in samples.labels.enumerated() {
            let c = Int(label)
            for j in 0..<d {
                let value = Double(samples.features[row * d + j])
                sums[c][j] += value
                squares[c][j] += value * value
            }
        }
        return (0..<samples.classCount).map { c in
            let n = Double(counts[c])
            guard counts[c] >= 2 else { return nil }
            var total = 0.0
            for j in 0..<d { total += max(squares[c][j] - sums[c][j] * sums[c][j] / n, 0) / (n - 1) }
            return total / Double(d)
        }
    }
}
