import FedArenaAttacks
import FedArenaCore
import FedArenaNumerics
import FedArenaSynthesis
import Testing

@Suite struct SyntheticPoisonTests {
    /// Two classes of 16-pixel "images": class 0 bright on the left half, class 1 on the right.
    static let data: LabeledSamples = {
        var generator = SeededGenerator(seed: 4)
        var features = [Float]()
        var labels = [Int32]()
        for index in 0..<60 {
            let label = index % 2
            for pixel in 0..<16 {
                let bright = (pixel < 8) == (label == 0)
                features.append(min(1, max(0, Float(bright ? 0.8 : 0.1) + Float(generator.normal()) * 0.05)))
            }
            labels.append(Int32(label))
        }
        return LabeledSamples(features: features, labels: labels, featureCount: 16, classCount: 10)
    }()

    func attack(_ mode: SyntheticPoison.Mode, mix: Double = 1, generations: Int = 1) throws -> SyntheticPoison {
        try SyntheticPoison(generator: try GaussianPCA(components: 2), mode: mode, mix: mix, generations: generations)
    }

    @Test func keepsTheSampleCountAndTheMix() throws {
        var rng = SeededGenerator(seed: 1)
        let poisoned = try attack(.none, mix: 0.25).poison(Self.data, using: &rng)
        #expect(poisoned.count == 60)
        #expect(poisoned.featureCount == 16)
        // 45 real samples are kept as they were; 15 are new.
        let real = Set((0..<60).map { Array(Self.data.features[($0 * 16)..<(($0 + 1) * 16)]) })
        let rows = (0..<60).map { Array(poisoned.features[($0 * 16)..<(($0 + 1) * 16)]) }
        #expect(rows.filter { real.contains($0) }.count == 45)
        #expect(poisoned.features.allSatisfy { (0...1).contains($0) })
    }

    @Test func flipsTheLabelsOfSyntheticSourceSamples() throws {
        var rng = SeededGenerator(seed: 2)
        let flip = try LabelFlip(source: 0, target: 6, rate: 1)
        let poisoned = try attack(.labelFlip(flip)).poison(Self.data, using: &rng)
        #expect(poisoned.count == 60)
        #expect(poisoned.classHistogram[0] == 0)
        #expect(poisoned.classHistogram[6] == 30)
        #expect(poisoned.classHistogram[1] == 30)
        // The flipped samples look like class 0 (bright left half).
        for index in 0..<60 where poisoned.labels[index] == 6 {
            let left = poisoned.features[(index * 16)..<(index * 16 + 8)].reduce(0, +)
            let right = poisoned.features[(index * 16 + 8)..<(index * 16 + 16)].reduce(0, +)
            #expect(left > right)
        }
        #expect(try attack(.labelFlip(flip)).objective == .targetedFlip(source: 0, target: 6))
    }

    @Test func biasDrawsOnlyTheChosenClasses() throws {
        var rng = SeededGenerator(seed: 3)
        let poisoned = try attack(.bias(classes: [1])).poison(Self.data, using: &rng)
        #expect(poisoned.classHistogram[1] == 60)
    }

    @Test func isDeterministicAndRecursiveGenerationsDiffer() throws {
        var a = SeededGenerator(seed: 9)
        var b = SeededGenerator(seed: 9)
        let first = try attack(.none).poison(Self.data, using: &a)
        let second = try attack(.none).poison(Self.data, using: &b)
        #expect(first == second)
        var c = SeededGenerator(seed: 9)
        let recursive = try attack(.none, generations: 3).poison(Self.data, using: &c)
        #expect(recursive != first)
        #expect(recursive.count == 60)
    }

    /// Scores a sample by its first pixel: brighter is "more synthetic".
    struct FirstPixelScorer: SyntheticSampleScorer {
        var name: String { "first-pixel" }
        func syntheticScores(_ candidates: LabeledSamples, reference: LabeledSamples) throws(DetectionError) -> [Double] {
            (0..<candidates.count).map { Double(candidates.features[$0 * candidates.featureCount]) }
        }
    }

    @Test func stealthKeepsTheSamplesTheScorerFindsMostReal() throws {
        var attack = try SyntheticPoison(generator: try GaussianPCA(components: 2), mode: .none, stealthKeep: 0.25)
        var rng = SeededGenerator(seed: 5)
        #expect(throws: AttackError.self) { try attack.poison(Self.data, using: &rng) }
        attack.scorer = FirstPixelScorer()
        var filteredRng = SeededGenerator(seed: 5)
        let kept = try attack.poison(Self.data, using: &filteredRng)
        var plain = SeededGenerator(seed: 5)
        let unfiltered = try self.attack(.none).poison(Self.data, using: &plain)
        #expect(kept.count == 60)
        func meanFirstPixel(_ samples: LabeledSamples) -> Float {
            (0..<samples.count).map { samples.features[$0 * 16] }.reduce(0, +) / Float(samples.count)
        }
        // Keeping the quarter with the darkest first pixel lowers its mean well below the unfiltered draw's.
        #expect(meanFirstPixel(kept) < meanFirstPixel(unfiltered) - 0.05)
        #expect(throws: AttackError.self) { try SyntheticPoison(generator: try GaussianPCA(components: 2), mode: .none, stealthKeep: 0) }
    }

    @Test func impossibleParametersAreRefused() {
        #expect(throws: AttackError.self) { try attack(.none, mix: 1.5) }
        #expect(throws: AttackError.self) { try attack(.none, generations: 0) }
        #expect(throws: AttackError.self) { try attack(.bias(classes: [12])) }
    }

    @Test func registryBuildsItFromYAMLShapedOptions() throws {
        let spec = ComponentSpec(
            kind: "synthetic-poison",
            options: [
                "generator": .object(["kind": .string("gaussian-pca"), "components": .int(5)]),
                "poison": .object(["kind": .string("label-flip"), "source": .int(0), "target": .int(6)]),
                "mix": .double(0.5), "fraction": .double(0.2),
            ],
            keyPath: "attack")
        let plan = try AttackRegistry.standard.make(spec)
        #expect(plan.dataAttack?.name == "synthetic-poison")
        #expect(plan.objective == .targetedFlip(source: 0, target: 6))
        var typo = spec
        typo.options["generator"] = .object(["kind": .string("gaussian-pcaa")])
        #expect(throws: ConfigError.self) { try AttackRegistry.standard.make(typo) }
        var unknown = spec
        unknown.options["mixx"] = .double(0.5)
        do {
            _ = try AttackRegistry.standard.make(unknown)
            Issue.record("an unknown key was accepted")
        } catch {
            #expect(error.keyPath == "attack.mixx")
        }
    }
}
