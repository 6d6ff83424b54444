import FedArenaCore
import Foundation

/// `pixel-grid`: do a client's revealed (with `training-audit`: opened and verified) training
/// samples lie on the value grid of the real data? An 8-bit image stored as `Float(byte) / 255`
/// takes only the 256 values `k / 255`; a generator's raw output (a Gaussian, a mixture, a
/// network) almost never does. Quantisation traces are a classic forensic signal (Fan and de
/// Queiroz 2003, "Identification of Bitmap Compression History: JPEG Detection and Quantizer
/// Estimation", IEEE Transactions on Image Processing); here the grid is the data's own.
///
/// A value `v` is on the grid when `v ∈ [0, 1]` and `Float(round(v · levels)) / levels == v`
/// bit for bit (the loader's own arithmetic, so every real Fashion-MNIST pixel passes exactly). A
/// client's score is the share of its samples holding at least one value off the grid: 0 for
/// real data whatever its class mix, about 1 for raw synthetic samples. The attacker's answer
/// is to quantise (`synthetic-poison` `quantise: true`), which this check cannot see through:
/// it only removes the cheapest tell, and the other sample detectors must do the rest.
///
/// The root set must lie on the grid itself (else the data is not quantised that way and the
/// detector would flag every client): `detect` throws, naming the first root sample off it.
/// Real data that is not on such a grid (own CSV or NPY features, normalised images) cannot use
/// this detector.
///
/// YAML: `{kind: pixel-grid, levels: 255, samples_per_client: 32}` (`samples_per_client` is what
/// clients reveal without `training-audit`).
public struct PixelGrid: Detector {
    /// The grid is `k / levels`, `k = 0...levels`.
    public var levels: Int
    /// Samples each client reveals when there is no training audit.
    public var samplesPerClient: Int

    /// Creates the detector.
    /// - Parameters:
    ///   - levels: the grid's steps (255 for 8-bit images), in `1...65_535`.
    ///   - samplesPerClient: samples a client reveals without `training-audit`, `>= 1`.
    /// - Throws: ``DetectionError`` for values out of range.
    public init(levels: Int = 255, samplesPerClient: Int = 32) throws(DetectionError) {
        guard (1...65_535).contains(levels) else { throw DetectionError("pixel-grid needs levels in 1...65535, got \(levels)") }
        guard samplesPerClient > 0 else { throw DetectionError("pixel-grid needs samples_per_client > 0, got \(samplesPerClient)") }
        self.levels = levels
        self.samplesPerClient = samplesPerClient
    }

    /// `pixel-grid`.
    public var name: String { "pixel-grid" }

    /// Needs revealed samples (the opened batches under `training-audit`) and the root set.
    public var requirements: DetectorRequirements { DetectorRequirements(revealedSamples: samplesPerClient) }

    /// Whether `value` is exactly `k / levels` for an integer `k` in `0...levels`.
    public func isOnGrid(_ value: Float) -> Bool {
        guard value >= 0, value <= 1 else { return false }  // NaN fails both
        let scale = Float(levels)
        return (value * scale).rounded(.toNearestOrAwayFromZero) / scale == value
    }

    /// The index of the first sample of `samples` holding a value off the grid, or `nil`.
    public func firstSampleOffGrid(_ samples: LabeledSamples) -> Int? {
        (0..<samples.count).first { valuesOffGrid(samples, row: $0) > 0 }
    }

    /// How many values of sample `row` are off the grid.
    private func valuesOffGrid(_ samples: LabeledSamples, row: Int) -> Int {
        let width = samples.featureCount
        return samples.features[(row * width)..<((row + 1) * width)].reduce(0) { $0 + (isOnGrid($1) ? 0 : 1) }
    }

    /// Scores each client's revealed samples.
    /// - Throws: ``DetectionError`` when the root set is empty or not on the grid.
    public func detect(_ updates: [ClientUpdate], context: DetectionContext, using rng: inout some RandomNumberGenerator) throws(DetectionError) -> DetectionOutput {
        guard context.rootSet.count > 0 else { throw DetectionError("pixel-grid needs the root set (dataset.root_samples > 0) to check that the data lies on the grid") }
        if let row = firstSampleOffGrid(context.rootSet) {
            throw DetectionError(
                "pixel-grid: root sample \(row) holds a value off the 1/\(levels) grid; this detector applies only to data stored on that grid (8-bit images as byte / 255)")
        }
        var suspicions = [ClientID: Suspicion]()
        for update in updates {
            guard let samples = context.revealedSamples[update.client], samples.count > 0 else {
                suspicions[update.client] = Suspicion(score: 0, reason: "revealed no samples")
                continue
            }
            guard samples.featureCount == context.rootSet.featureCount, samples.features.count == samples.count * samples.featureCount else {
                suspicions[update.client] = Suspicion(score: 1, reason: "revealed samples of the wrong shape")
                continue
            }
            let perSample = (0..<samples.count).map { valuesOffGrid(samples, row: $0) }
            let offGrid = perSample.filter { $0 > 0 }.count
            let offValues = perSample.reduce(0, +)
            let share = Double(offGrid) / Double(samples.count)
            suspicions[update.client] = Suspicion(
                score: share,
                reason: "\(offGrid) of \(samples.count) revealed samples hold values off the 1/\(levels) grid (\(offValues) values)",
                features: ["samples_off_grid": Double(offGrid), "values_off_grid": Double(offValues), "samples": Double(samples.count)])
        }
        return DetectionOutput(suspicions: suspicions)
    }
}
