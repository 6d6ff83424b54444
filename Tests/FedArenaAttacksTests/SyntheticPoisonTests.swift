import FedArenaAttacks
import FedArenaCore
import FedArenaDefenses
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

    @Test func quantisationLandsOnThePixelGrid() throws {
        // By hand: 0.5·255 = 127.5 rounds away from zero to 128; 0.0019·255 = 0.48 → 0; 0.002·255 = 0.51 → 1.
        var values: [Float] = [0.5, 0.0019, 0.002, 1.2, -0.1, 1]
        SyntheticPoison.quantise(&values)
        #expect(values == [128 / 255, 0, 1 / 255, 1, 0, 1])
        let attack = try SyntheticPoison(generator: try GaussianPCA(components: 2), mode: .none, quantise: true)
        var rng = SeededGenerator(seed: 1)
        let poisoned = try attack.poison(Self.data, using: &rng)
        #expect(poisoned.features.allSatisfy { abs($0 * 255 - ($0 * 255).rounded()) < 1e-4 })
        // Unquantised draws are off the grid.
        var plainRng = SeededGenerator(seed: 1)
        let plain = try self.attack(.none).poison(Self.data, using: &plainRng)
        #expect(plain.features.filter { abs($0 * 255 - ($0 * 255).rounded()) > 1e-3 }.count > plain.features.count / 2)
        // The defender's pixel-grid check agrees bit for bit: every quantised sample passes, raw
        // draws are caught.
        let grid = try PixelGrid()
        #expect(grid.firstSampleOffGrid(poisoned) == nil)
        #expect(grid.firstSampleOffGrid(plain) != nil)
    }

    @Test func backgroundClampZeroesOnlyPixelsTheClassNeverLights() throws {
        // Class 0 never lights pixels 0..<4 (exactly 0 there); class 1 does.
        var data = Self.data
        for row in 0..<data.count where data.labels[row] == 0 {
            for j in 0..<4 { data.features[row * 16 + j] = 0 }
        }
        // The residual term of the PCA Gaussian spreads isotropic noise over every pixel: a haze.
        let clamped = try SyntheticPoison(generator: try GaussianPCA(components: 2, residual: true), mode: .none, clampBackground: true)
        var rng = SeededGenerator(seed: 2)
        let poisoned = try clamped.poison(data, using: &rng)
        var plainRng = SeededGenerator(seed: 2)
        let plain = try SyntheticPoison(generator: try GaussianPCA(components: 2, residual: true), mode: .none).poison(data, using: &plainRng)
        func litBackground(_ samples: LabeledSamples, label: Int32) -> Int {
            (0..<samples.count).filter { samples.labels[$0] == label }.reduce(0) { total, row in
                total + (0..<4).filter { samples.features[row * 16 + $0] != 0 }.count
            }
        }
        #expect(litBackground(poisoned, label: 0) == 0)
        #expect(litBackground(plain, label: 0) > 0)  // the generator's haze the clamp removes
        #expect(litBackground(poisoned, label: 1) == litBackground(plain, label: 1))
        #expect(litBackground(poisoned, label: 1) > 0)
    }

    @Test func stepPlanPoisonsTheRequestedShareOfWholeBatches() throws {
        let flip = try LabelFlip(source: 0, target: 6, rate: 1)
        let attack = try SyntheticPoison(generator: try GaussianPCA(components: 2), mode: .labelFlip(flip), poisonedStepFraction: 0.25)
        #expect(attack.needsStepPlan)
        var rng = SeededGenerator(seed: 3)
        #expect(throws: AttackError.self) { try attack.poison(Self.data, using: &rng) }
        var planRng = SeededGenerator(seed: 3)
        let plan = try attack.stepPlan(Self.data, using: &planRng)
        #expect(plan.realCount == 60 && plan.samples.count == 120)
        #expect(Array(plan.samples.features[0..<(60 * 16)]) == Self.data.features)
        // The poisoned half carries the flipped labels (every draw is synthetic at mix 1).
        #expect(plan.samples.labels[60...].allSatisfy { $0 != 0 })
        var roundRng = SeededGenerator(seed: 4)
        let schedule = try plan.schedule(epochs: 3, batchSize: 8, using: &roundRng)
        // 60 samples in batches of 8: 8 steps (the last of 4); a quarter of 8 is 2 poisoned steps.
        #expect(schedule.orders.count == 3)
        for epoch in 0..<3 {
            let order = schedule.orders[epoch]
            #expect(order.count == 60)
            #expect(schedule.poisonedSteps[epoch].count == 2)
            for step in 0..<8 {
                let rows = order[(step * 8)..<min(step * 8 + 8, 60)]
                let poisoned = schedule.isPoisoned(epoch: epoch, step: step)
                #expect(rows.allSatisfy { ($0 >= 60) == poisoned }, "epoch \(epoch) step \(step)")
            }
            // No row is visited twice in an epoch.
            #expect(Set(order).count == 60)
        }
        #expect(schedule.orders[0] != schedule.orders[1])
        var again = SeededGenerator(seed: 3)
        #expect(try attack.stepPlan(Self.data, using: &again) == plan)
        var sameRound = SeededGenerator(seed: 4)
        #expect(try plan.schedule(epochs: 3, batchSize: 8, using: &sameRound) == schedule)
        var otherRound = SeededGenerator(seed: 5)
        #expect(try plan.schedule(epochs: 3, batchSize: 8, using: &otherRound) != schedule)
        // p = 1: every step is poisoned.
        var fullRng = SeededGenerator(seed: 3)
        let full = try self.attack(.none).stepPlan(Self.data, using: &fullRng).schedule(epochs: 1, batchSize: 8, using: &fullRng)
        #expect(full.poisonedSteps == [Array(0..<8)] && full.orders[0].allSatisfy { $0 >= 60 })
        #expect(throws: AttackError.self) { try SyntheticPoison(generator: try GaussianPCA(components: 2), mode: .none, poisonedStepFraction: 0) }
        #expect(throws: AttackError.self) { try plan.schedule(epochs: 0, batchSize: 8, using: &fullRng) }
    }

    @Test func registryReadsTheStealthOptions() throws {
        var options: [String: ConfigValue] = [
            "generator": .object(["kind": .string("gaussian-pca")]), "quantise": .bool(true), "clamp_background": .bool(true),
            "poison_steps": .double(0.5),
        ]
        let plan = try AttackRegistry.standard.make(ComponentSpec(kind: "synthetic-poison", options: options, keyPath: "attack"))
        let attack = try #require(plan.dataAttack as? SyntheticPoison)
        #expect(attack.quantise && attack.clampBackground && attack.poisonedStepFraction == 0.5 && attack.needsStepPlan)
        options["poison_steps"] = .double(0)
        do {
            _ = try AttackRegistry.standard.make(ComponentSpec(kind: "synthetic-poison", options: options, keyPath: "attack"))
            Issue.record("poison_steps 0 was accepted")
        } catch {
            #expect(error.keyPath == "attack.poison_steps")
        }
    }
}
