import FedArenaCore
import FedArenaData
import FedArenaNumerics
import Foundation

/// The entry points the CLI uses: fit a generator on a client's samples, draw from it, save
/// the draws, and compare generators in a fidelity table.
public enum SynthesisDemo {
    /// A fitted generator and its draws.
    public struct Result: Sendable {
        /// The generator after `fit`.
        public var generator: any Generator
        /// `perClass` samples of every class present in the training samples, class by class.
        public var samples: LabeledSamples
        /// Wall-clock seconds of `fit` and of sampling.
        public var fitSeconds: Double, sampleSeconds: Double
    }

    /// Fits `generator` on `samples` and draws `perClass` samples of every class present.
    /// The fit uses `SeededGenerator(seed: seed, stream: [0])`, the draws `stream: [1]`.
    /// - Throws: ``SynthesisError`` `.generatorFailed` carrying the generator's message.
    public static func fitAndSample(
        _ generator: any Generator, on samples: LabeledSamples, perClass: Int, temperature: Double = 1, seed: UInt64
    ) throws(SynthesisError) -> Result {
        var model = generator
        var fitRng = SeededGenerator(seed: seed, stream: [0])
        var drawRng = SeededGenerator(seed: seed, stream: [1])
        let fitStart = Date()
        do throws(GeneratorError) {
            try model.fit(samples, using: &fitRng)
            let fitSeconds = Date().timeIntervalSince(fitStart)
            let drawStart = Date()
            var drawn = LabeledSamples(features: [], labels: [], featureCount: samples.featureCount, classCount: samples.classCount)
            for (c, count) in samples.classHistogram.enumerated() where count > 0 {
                let part = try model.sample(count: perClass, label: c, temperature: temperature, using: &drawRng)
                drawn.features += part.features
                drawn.labels += part.labels
            }
            return Result(generator: model, samples: drawn, fitSeconds: fitSeconds, sampleSeconds: Date().timeIntervalSince(drawStart))
        } catch {
            throw SynthesisError(.generatorFailed, "\(generator.name): \(error.message)")
        }
    }

    /// Writes a PNG grid (rows = classes, `columns` samples each) of `samples` to `path`.
    /// - Throws: ``SynthesisError`` from ``PNGWriter``.
    public static func writePNG(_ samples: LabeledSamples, columns: Int = 8, to path: String) throws(SynthesisError) {
        try PNGWriter.writeGrid(samples, columns: columns, to: path)
    }

    /// Writes the features (`<f4`, shape `[n, d]`) to `featuresPath` and the labels (`<f4`,
    /// shape `[n]`) to `labelsPath`.
    /// - Throws: ``SynthesisError`` `.ioError` with the data layer's reason.
    public static func writeNPY(_ samples: LabeledSamples, featuresPath: String, labelsPath: String) throws(SynthesisError) {
        do throws(DataError) {
            try NPYFile.write(samples.features, shape: [samples.count, samples.featureCount], to: featuresPath)
            try NPYFile.write(samples.labels.map { Float($0) }, shape: [samples.count], to: labelsPath)
        } catch {
            throw SynthesisError(.ioError, "\(error)")
        }
    }

    /// Fits every generator on `real`, draws as many samples of each class as `heldOut` holds,
    /// and scores the draws against `heldOut` (``Fidelity/evaluate(real:synthetic:seed:)``).
    /// The first row, `real`, scores `real` itself (up to `heldOut.count` samples) as the
    /// reference a perfect generator would reach.
    /// - Parameters:
    ///   - generators: unfitted generators.
    ///   - real: the training samples.
    ///   - heldOut: real samples none of the generators saw.
    ///   - seed: generator `i` fits and draws with `SeededGenerator(seed: seed, stream: [i, …])`.
    /// - Returns: one row per generator, after the reference row.
    /// - Throws: ``SynthesisError`` from fitting, drawing or the metrics.
    public static func fidelityTable(
        generators: [any Generator], real: LabeledSamples, heldOut: LabeledSamples, seed: UInt64
    ) throws(SynthesisError) -> [FidelityRow] {
        let reference = real.subset(Array(0..<min(real.count, heldOut.count)))
        var rows = [FidelityRow(name: "real", metrics: try Fidelity.evaluate(real: heldOut, synthetic: reference, seed: seed), fitSeconds: 0, sampleSeconds: 0)]
        let wanted = heldOut.classHistogram
        for (index, generator) in generators.enumerated() {
            var model = generator
            var fitRng = SeededGenerator(seed: seed, stream: [UInt64(index), 0])
            var drawRng = SeededGenerator(seed: seed, stream: [UInt64(index), 1])
            let fitStart = Date()
            var drawn = LabeledSamples(features: [], labels: [], featureCount: real.featureCount, classCount: real.classCount)
            let fitSeconds: Double
            let drawStart: Date
            do throws(GeneratorError) {
                try model.fit(real, using: &fitRng)
                fitSeconds = Date().timeIntervalSince(fitStart)
                drawStart = Date()
                for (c, count) in wanted.enumerated() where count > 0 {
                    let part = try model.sample(count: count, label: c, temperature: 1, using: &drawRng)
                    drawn.features += part.features
                    drawn.labels += part.labels
                }
            } catch {
                throw SynthesisError(.generatorFailed, "\(generator.name): \(error.message)")
            }
            let sampleSeconds = Date().timeIntervalSince(drawStart)
            let metrics = try Fidelity.evaluate(real: heldOut, synthetic: drawn, seed: seed)
            rows.append(FidelityRow(name: generator.name, metrics: metrics, fitSeconds: fitSeconds, sampleSeconds: sampleSeconds))
        }
        return rows
    }
}
