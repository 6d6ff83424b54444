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
        /// Process CPU seconds of `fit` (all threads; equals the wall time on an idle core
        /// with `OPENBLAS_NUM_THREADS=1`, and is less inflated when other jobs share the cores).
        public var fitCPUSeconds: Double
    }

    /// The CPU seconds this process has used (`CLOCK_PROCESS_CPUTIME_ID`).
    public static func processCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
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
        let cpuStart = processCPUSeconds()
        do throws(GeneratorError) {
            try model.fit(samples, using: &fitRng)
            let fitSeconds = Date().timeIntervalSince(fitStart)
            let fitCPUSeconds = processCPUSeconds() - cpuStart
            let drawStart = Date()
            var drawn = LabeledSamples(features: [], labels: [], featureCount: samples.featureCount, classCount: samples.classCount)
            for (c, count) in samples.classHistogram.enumerated() where count > 0 {
                let part = try model.sample(count: perClass, label: c, temperature: temperature, using: &drawRng)
                drawn.features += part.features
                drawn.labels += part.labels
            }
            return Result(
                generator: model, samples: drawn, fitSeconds: fitSeconds, sampleSeconds: Date().timeIntervalSince(drawStart), fitCPUSeconds: fitCPUSeconds)
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
    /// and scores the draws against `heldOut` (``Fidelity/evaluate(real:synthetic:training:seed:)``,
    /// with `real` as the training set of the memorisation metrics).
    ///
    /// Reference rows come first: `real (training)` scores `real` itself (up to `heldOut.count`
    /// samples), what a generator that returns its training set would reach (its nearest-neighbour
    /// distance is 0); with `unseen`, `real (unseen)` scores those real samples, which no
    /// generator saw: what a perfect generator would reach.
    /// - Parameters:
    ///   - generators: unfitted generators.
    ///   - real: the training samples.
    ///   - heldOut: real samples none of the generators saw.
    ///   - unseen: more real samples none of the generators saw, from the same source as `real`.
    ///   - seed: generator `i` fits and draws with `SeededGenerator(seed: seed, stream: [i, …])`.
    ///   - gridDirectory: when given, each generator's draws are also written there as
    ///     `NAME.png` (``writePNG(_:columns:to:)``, 10 per class), from the same fit.
    /// - Returns: the reference rows, then one row per generator.
    /// - Throws: ``SynthesisError`` from fitting, drawing, the metrics or writing a grid.
    public static func fidelityTable(
        generators: [any Generator], real: LabeledSamples, heldOut: LabeledSamples, unseen: LabeledSamples? = nil, seed: UInt64,
        gridDirectory: String? = nil
    ) throws(SynthesisError) -> [FidelityRow] {
        let reference = real.subset(Array(0..<min(real.count, heldOut.count)))
        var rows = [
            FidelityRow(
                name: "real (training)", metrics: try Fidelity.evaluate(real: heldOut, synthetic: reference, training: real, seed: seed),
                fitSeconds: 0, sampleSeconds: 0)
        ]
        if let unseen {
            rows.append(
                FidelityRow(
                    name: "real (unseen)", metrics: try Fidelity.evaluate(real: heldOut, synthetic: unseen, training: real, seed: seed),
                    fitSeconds: 0, sampleSeconds: 0))
        }
        let wanted = heldOut.classHistogram
        for (index, generator) in generators.enumerated() {
            var model = generator
            var fitRng = SeededGenerator(seed: seed, stream: [UInt64(index), 0])
            var drawRng = SeededGenerator(seed: seed, stream: [UInt64(index), 1])
            let fitStart = Date()
            let cpuStart = processCPUSeconds()
            var drawn = LabeledSamples(features: [], labels: [], featureCount: real.featureCount, classCount: real.classCount)
            let fitSeconds: Double, fitCPUSeconds: Double
            let drawStart: Date
            do throws(GeneratorError) {
                try model.fit(real, using: &fitRng)
                fitSeconds = Date().timeIntervalSince(fitStart)
                fitCPUSeconds = processCPUSeconds() - cpuStart
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
            if let gridDirectory { try writePNG(drawn, columns: 10, to: "\(gridDirectory)/\(generator.name).png") }
            let metrics = try Fidelity.evaluate(real: heldOut, synthetic: drawn, training: real, seed: seed)
            rows.append(
                FidelityRow(name: generator.name, metrics: metrics, fitSeconds: fitSeconds, sampleSeconds: sampleSeconds, fitCPUSeconds: fitCPUSeconds))
        }
        return rows
    }
}
