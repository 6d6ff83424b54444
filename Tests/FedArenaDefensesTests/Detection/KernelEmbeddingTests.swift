import FedArenaCore
@testable import FedArenaDefenses
import FedArenaNumerics
import Testing

/// A generator that replays fixed outputs (then repeats the last).
private struct ScriptedGenerator: RandomNumberGenerator {
    var outputs: [UInt64]
    var position = 0
    mutating func next() -> UInt64 {
        defer { position += 1 }
        return outputs[min(position, outputs.count - 1)]
    }
}

@Suite struct KernelEmbeddingTests {
    /// The subsampling null shuffles with the unbiased bounded draw (Lemire's multiply and
    /// reject, the one in Numerics), not `next() % bound`. With raw outputs 2⁶², 2⁶³, 2⁶³ the
    /// Fisher-Yates steps for i = 3, 2, 1 draw j = ⌊u·(i+1)/2⁶⁴⌋ = 1, 1, 1: the order becomes
    /// [0, 2, 3, 1] and the first half {0, 2} is set against {1, 3}. (Modulo would draw
    /// 0, 2, 0 and give [1, 3, 2, 0]: the same difference with the opposite sign.)
    @Test func nullDrawsUseTheUnbiasedBoundedDraw() throws {
        let samples = LabeledSamples(features: [0.1, 0.9, 0.4, 0.3, 0.8, 0.2, 0.6, 0.7], labels: [0, 0, 0, 0], featureCount: 2, classCount: 1)
        let map = RandomFourierFeatures(seed: 5, inputDimension: 2, dimension: 8, bandwidth: 1)
        let embedding = KernelEmbedding(samples: samples, map: map)
        var rng = ScriptedGenerator(outputs: [1 << 62, 1 << 63, 1 << 63])
        let split = try #require(embedding.splitDifferences(0, draws: 1, using: &rng))
        #expect(split.half == 2 && rng.position == 3)
        let phi = embedding.features
        let d = map.dimension
        for k in 0..<d {
            let expected = (phi[k] + phi[2 * d + k]) / 2 - (phi[d + k] + phi[3 * d + k]) / 2
            #expect(abs(split.differences[k] - expected) < 1e-6, "feature \(k)")
        }
    }
}
