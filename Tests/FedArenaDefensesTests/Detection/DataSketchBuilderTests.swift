import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import Foundation
import Testing

@Suite struct DataSketchBuilderTests {
    @Test func sketchIsDeterministicPerRoundSeed() throws {
        let data = blobs(count: 20, seed: 1)
        var rng = SeededGenerator(seed: 0)
        let a = try DataSketchBuilder.make(samples: data, roundSeed: 77, dimension: 64, bandwidth: 3, using: &rng)
        let b = try DataSketchBuilder.make(samples: data, roundSeed: 77, dimension: 64, bandwidth: 3, using: &rng)
        let c = try DataSketchBuilder.make(samples: data, roundSeed: 78, dimension: 64, bandwidth: 3, using: &rng)
        #expect(a == b)
        #expect(a.classEmbeddings != c.classEmbeddings)
        #expect(a.labelHistogram == [20, 20])
        #expect(a.classEmbeddings.count == 2 * 64 && a.dimension == 64)
    }

    @Test func sameDistributionIsCloserThanAnother() throws {
        var rng = SeededGenerator(seed: 0)
        let make = { (samples: LabeledSamples) throws(DetectionError) -> [Float] in
            var local = SeededGenerator(seed: 0)
            return try DataSketchBuilder.make(samples: samples, roundSeed: 5, dimension: 512, bandwidth: 4, using: &local).classEmbeddings
        }
        _ = rng.next()
        let base = try make(blobs(count: 200, seed: 1))
        let same = try make(blobs(count: 200, seed: 2))
        let shifted = try make(blobs(count: 200, shift: 1, seed: 3))
        let narrow = try make(blobs(count: 200, spread: 0.3, seed: 4))
        let dSame = VectorMath.squaredDistance(base, same)
        #expect(dSame < VectorMath.squaredDistance(base, shifted) / 5)
        #expect(dSame < VectorMath.squaredDistance(base, narrow) / 5)
    }

    @Test func noiseFollowsTheGaussianMechanism() throws {
        let noise = try SketchNoise(epsilon: 0.5, delta: 1e-5)
        // σ = (2√2 / n) √(2 ln(1.25/δ)) / ε = (2√2/10) · 4.8448 / 0.5 = 2.7406 for n = 10.
        #expect(abs(noise.standardDeviation(sampleCount: 10) - 2.7406) < 1e-3)
        #expect(SketchNoise.sensitivity(sampleCount: 4) == 2.0.squareRoot() / 2)
        let data = blobs(count: 10, seed: 1)
        var r1 = SeededGenerator(seed: 1)
        var r2 = SeededGenerator(seed: 1)
        var r3 = SeededGenerator(seed: 2)
        let clean = try DataSketchBuilder.make(samples: data, roundSeed: 3, dimension: 256, bandwidth: 3, using: &r1)
        let noisy = try DataSketchBuilder.make(samples: data, roundSeed: 3, dimension: 256, bandwidth: 3, noise: noise, using: &r2)
        let noisyAgain = try DataSketchBuilder.make(samples: data, roundSeed: 3, dimension: 256, bandwidth: 3, noise: noise, using: &r3)
        #expect(noisy != noisyAgain)
        // The empirical noise standard deviation matches σ within 10%.
        let diffs = zip(noisy.classEmbeddings, clean.classEmbeddings).map { Double($0 - $1) }
        let sd = (diffs.reduce(0) { $0 + $1 * $1 } / Double(diffs.count)).squareRoot()
        #expect(abs(sd / 2.7406 - 1) < 0.1)
        #expect(throws: DetectionError.self) { try SketchNoise(epsilon: 2, delta: 1e-5) }
    }

    @Test func mismatchedFeatureCountThrows() {
        let map = DataSketchBuilder.featureMap(roundSeed: 1, inputDimension: 5, dimension: 8)
        var rng = SeededGenerator(seed: 1)
        #expect(throws: DetectionError.self) { try DataSketchBuilder.make(samples: blobs(count: 2, seed: 1), map: map, using: &rng) }
    }
}
