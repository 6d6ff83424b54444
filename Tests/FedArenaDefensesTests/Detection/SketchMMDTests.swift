import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import Testing

@Suite struct SketchMMDTests {
    /// 8 honest clients drawing from the root's distribution, client 8 collapsed (spread 0.3),
    /// client 9 shifted by 0.8 per coordinate.
    func round(noise: SketchNoise? = nil, seed: UInt64 = 21) throws -> (updates: [ClientUpdate], context: DetectionContext) {
        let root = blobs(count: 60, seed: 1)
        var sets = (0..<8).map { blobs(count: 40, seed: 100 + UInt64($0)) }
        sets.append(blobs(count: 40, spread: 0.3, seed: 200))
        sets.append(blobs(count: 40, shift: 0.8, seed: 201))
        var rng = SeededGenerator(seed: 2)
        var sketches = [ClientID: DataSketch]()
        for (i, set) in sets.enumerated() {
            sketches[ClientID(i)] = try DataSketchBuilder.make(samples: set, roundSeed: seed, dimension: 256, bandwidth: 3, noise: noise, using: &rng)
        }
        let updates = (0..<10).map { ClientUpdate(client: ClientID($0), round: 1, sampleCount: 80, delta: ParameterVector([0, 0])) }
        return (updates, detectionContext(dimension: 2, seed: seed, rootSet: root, sketches: sketches))
    }

    @Test func collapsedAndShiftedClientsStandOut() throws {
        let (updates, context) = try round()
        let output = try run(try SketchMMD(dimension: 256, bandwidth: 3), updates, context)
        #expect(Set(ranking(output).prefix(2)) == [8, 9])
        let collapsed = try #require(output.suspicions[ClientID(8)])
        #expect(collapsed.score > 0.9)
        #expect(collapsed.features["variance_ratio"]! < 0.5)
        // At σ = 3 the tail feature is weak (0.97 against 0.99-1.02 for honest clients) but ordered.
        let honestTails = (0..<8).map { output.suspicions[ClientID($0)]!.features["tail_ratio"]! }
        #expect(collapsed.features["tail_ratio"]! < honestTails.min()!)
        let shifted = try #require(output.suspicions[ClientID(9)])
        #expect(shifted.features["mmd_p_value"]! < 0.02)
        #expect(shifted.score > 0.9)
        #expect(!shifted.reason.isEmpty)
        let honest = (0..<8).map { output.suspicions[ClientID($0)]!.score }
        #expect(honest.filter { $0 > 0.8 }.count <= 1)
        #expect(honest.allSatisfy { $0 < collapsed.score && $0 < shifted.score })
    }

    @Test func noisySketchesStillSeparateTheBadClients() throws {
        let noise = try SketchNoise(epsilon: 0.9, delta: 1e-5)
        let (updates, context) = try round(noise: noise)
        let output = try run(try SketchMMD(dimension: 256, bandwidth: 3, noise: noise), updates, context)
        // σ_c ≈ 0.32 per coordinate for 40 samples: the shift survives, the spread is noisier.
        #expect(output.suspicions[ClientID(9)]!.score > 0.9)
        let honestMean = (0..<8).map { output.suspicions[ClientID($0)]!.score }.reduce(0, +) / 8
        #expect(honestMean < 0.6)
    }

    @Test func missingAndMalformedSketches() throws {
        var (updates, context) = try round()
        context.sketches[ClientID(0)] = nil
        context.sketches[ClientID(1)] = DataSketch(classEmbeddings: [1, 2], dimension: 1, labelHistogram: [1, 1])
        let output = try run(try SketchMMD(dimension: 256, bandwidth: 3, missingScore: 0.4), updates, context)
        #expect(output.suspicions[ClientID(0)] == Suspicion(score: 0.4, reason: "sent no data sketch"))
        #expect(output.suspicions[ClientID(1)]!.score == 1)
        #expect(output.suspicions[ClientID(1)]!.reason.contains("malformed"))
        #expect(output.suspicions.count == 10)
    }
}
