import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import Testing

@Suite struct PixelGridTests {
    static let detector = try! PixelGrid()

    /// Every byte value as the loader stores it (`Float(byte) / 255`) is on the grid; values
    /// between grid points, outside [0, 1] or NaN are not.
    @Test func gridMembershipByHand() {
        #expect((0...255).allSatisfy { Self.detector.isOnGrid(Float($0) / 255) })
        // 127.5 / 255 = 0.5 and 0.001 (0.255 / 255) lie between grid points.
        for value: Float in [0.5, 0.001, Float(3) / 255 + 1e-6, 1.0001, -0.002, .nan, .infinity] {
            #expect(!Self.detector.isOnGrid(value), "\(value)")
        }
        // Grid of 4 levels: 0, 0.25, 0.5, 0.75, 1.
        let coarse = try! PixelGrid(levels: 4)
        #expect([0, 0.25, 0.5, 0.75, 1].allSatisfy(coarse.isOnGrid))
        #expect(!coarse.isOnGrid(0.3))
    }

    /// Root set of real grid values; client 0 reveals grid samples, client 1 three samples of
    /// which two hold an off-grid value (one value each), client 2 nothing.
    @Test func scoresTheShareOfSamplesOffTheGrid() throws {
        let width = 4
        let root = LabeledSamples(features: (0..<40).map { Float(($0 * 37) % 256) / 255 }, labels: [Int32](repeating: 0, count: 10), featureCount: width, classCount: 1)
        var context = detectionContext(dimension: 1, rootSet: root)
        let real = LabeledSamples(features: [0, 1, Float(12) / 255, Float(200) / 255], labels: [0], featureCount: width, classCount: 1)
        let mixed = LabeledSamples(
            features: [0, 0.5, 0, 0, /* */ Float(9) / 255, 0, 0, 1, /* */ 0.123, 0, 0, 0], labels: [0, 0, 0], featureCount: width, classCount: 1)
        context.revealedSamples = [ClientID(0): real, ClientID(1): mixed]
        let updates = (0..<3).map { ClientUpdate(client: ClientID($0), round: 1, sampleCount: 1, delta: ParameterVector([0])) }
        var rng = SeededGenerator(seed: 1)
        let output = try Self.detector.detect(updates, context: context, using: &rng)
        #expect(output.suspicions[ClientID(0)]!.score == 0)
        #expect(output.suspicions[ClientID(1)]!.score == 2.0 / 3.0)
        #expect(output.suspicions[ClientID(1)]!.features["values_off_grid"] == 2)
        #expect(output.suspicions[ClientID(1)]!.reason == "2 of 3 revealed samples hold values off the 1/255 grid (2 values)")
        #expect(output.suspicions[ClientID(2)] == Suspicion(score: 0, reason: "revealed no samples"))
        // Rounding the off-grid values to the nearest k / 255 (the attacker's quantise) evades it.
        context.revealedSamples[ClientID(1)]!.features = mixed.features.map { ($0 * 255).rounded(.toNearestOrAwayFromZero) / 255 }
        #expect(try Self.detector.detect(updates, context: context, using: &rng).suspicions[ClientID(1)]!.score == 0)
        // A sample of the wrong width is flagged outright.
        context.revealedSamples[ClientID(1)] = LabeledSamples(features: [0, 0], labels: [0], featureCount: 2, classCount: 1)
        #expect(try Self.detector.detect(updates, context: context, using: &rng).suspicions[ClientID(1)]!.score == 1)
    }

    /// Data not stored on the grid cannot use the detector: the error names the root sample.
    @Test func aRootSetOffTheGridIsRefused() {
        let root = LabeledSamples(features: [0, 0, 0.5, 0.7], labels: [0, 0], featureCount: 2, classCount: 1)
        var rng = SeededGenerator(seed: 1)
        let updates = [ClientUpdate(client: ClientID(0), round: 1, sampleCount: 1, delta: ParameterVector([0]))]
        #expect {
            try Self.detector.detect(updates, context: detectionContext(dimension: 1, rootSet: root), using: &rng)
        } throws: { error in
            (error as? DetectionError)?.message.hasPrefix("pixel-grid: root sample 1 holds a value off the 1/255 grid") == true
        }
        #expect(throws: DetectionError.self) { try Self.detector.detect(updates, context: detectionContext(dimension: 1), using: &rng) }
        #expect(throws: DetectionError.self) { try PixelGrid(levels: 0) }
        #expect(throws: DetectionError.self) { try PixelGrid(samplesPerClient: 0) }
    }
}
