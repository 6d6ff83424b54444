import FedArenaCore
import FedArenaNumerics
import FedArenaSynthesis

/// Synthetic poisoned data: the malicious client fits a generative model to the data it holds,
/// samples synthetic data from it, poisons that, and trains on it mixed with its real data.
///
/// This is the attacker of FedArena's mission: it needs no data beyond its own partition, and
/// what it trains on is *generated*, so detectors that look for synthetic data have something
/// to find. Modes (YAML `poison.kind`):
/// - `label-flip`: synthetic samples with flipped labels (all `l → C−1−l`, or `source → target`);
/// - `backdoor`: synthetic samples stamped with a trigger and relabelled to the target;
/// - `bias`: correctly labelled synthetic samples of the chosen `classes` only, skewing the
///   global model towards them (the effect is the per-class accuracy gap);
/// - `none`: correctly labelled synthetic samples of every class (a pure "synthetic client").
///
/// `mix` is the synthetic share of the client's training set (0 = all real, 1 = all synthetic;
/// the set keeps the client's sample count). `generations` > 1 fits generation g on the
/// samples of generation g − 1 (the recursive training of Shumailov et al. 2024, *AI models
/// collapse when trained on recursively generated data*, Nature 631). `temperature` < 1 draws
/// closer to the class modes (a stealthier, less diverse attacker).
///
/// Options that make synthetic samples harder to tell from real ones (applied to every draw,
/// in this order, before stealth filtering and before the poisoning of labels or triggers):
/// - `clampBackground`: pixels that no real sample of the drawn class lights up (exactly 0 in
///   all of the client's samples of that class) are set to 0; generators leave a faint haze
///   there that real Fashion-MNIST images never have.
/// - `quantise`: every value is rounded to the nearest multiple of 1/255, the grid real 8-bit
///   pixels lie on (raw generator output lies between grid points almost surely).
/// - `poisonedStepFraction` p < 1: only a share p of the local SGD steps trains on poison; the
///   others train on real batches. Such an attack cannot be expressed as one sample set:
///   runtimes call ``stepPlan(_:using:)`` once per client and
///   ``PoisonStepPlan/schedule(epochs:batchSize:using:)`` every round (``poison(_:using:)``
///   refuses, see ``needsStepPlan``).
public struct SyntheticPoison: DataAttack {
    /// How the synthetic samples are poisoned.
    public enum Mode: Sendable {
        case labelFlip(LabelFlip)
        case backdoor(Backdoor)
        case bias(classes: [Int])
        case none
    }

    /// The generative model, unfitted.
    public var generator: any Generator
    /// The poisoning applied to the synthetic samples.
    public var mode: Mode
    /// The synthetic share of the training set, in [0, 1].
    public var mix: Double
    /// Recursive generations (1 = fit on real data only).
    public var generations: Int
    /// The sampling temperature.
    public var temperature: Double
    /// Stealth filtering: draw `1 / keep` times as many synthetic samples and keep the share
    /// `keep` that ``scorer`` finds most real (`nil`: no filtering).
    public var stealthKeep: Double?
    /// The sample-level detector the attacker filters against; the runtime hands it in.
    public var scorer: (any SyntheticSampleScorer)?
    /// Round synthetic values to the 1/255 grid.
    public var quantise: Bool
    /// Zero the pixels the real class never lights up.
    public var clampBackground: Bool
    /// The share of local steps that train on poison, in (0, 1].
    public var poisonedStepFraction: Double

    /// Creates the attack.
    /// - Parameters:
    ///   - generator: the generative model, unfitted.
    ///   - mode: the poisoning of the synthetic samples.
    ///   - mix: the synthetic share of the (poisoned) training set, in [0, 1].
    ///   - generations: recursive generations, ≥ 1.
    ///   - temperature: the sampling temperature, > 0.
    ///   - stealthKeep: the share of draws stealth filtering keeps, in (0, 1], or `nil`.
    ///   - quantise: round synthetic values to the 1/255 grid.
    ///   - clampBackground: zero the pixels the drawn class never lights up in the real data.
    ///   - poisonedStepFraction: the share of local steps on poison, in (0, 1].
    ///   - classCount: the number of classes (for the bias classes).
    /// - Throws: ``AttackError`` `.invalidConfiguration` for a mix outside [0, 1], fewer than 1
    ///   generation, a non-positive temperature, a step fraction outside (0, 1], or bias
    ///   classes outside `0..<classCount`.
    public init(
        generator: any Generator, mode: Mode, mix: Double = 1, generations: Int = 1, temperature: Double = 1, stealthKeep: Double? = nil,
        quantise: Bool = false, clampBackground: Bool = false, poisonedStepFraction: Double = 1, classCount: Int = 10
    ) throws(AttackError) {
        guard poisonedStepFraction > 0, poisonedStepFraction <= 1 else {
            throw AttackError(.invalidConfiguration, "synthetic-poison needs poison_steps in (0, 1], got \(poisonedStepFraction)")
        }
        self.quantise = quantise
        self.clampBackground = clampBackground
        self.poisonedStepFraction = poisonedStepFraction
        if let stealthKeep, !(stealthKeep > 0 && stealthKeep <= 1) {
            throw AttackError(.invalidConfiguration, "synthetic-poison needs stealth_keep in (0, 1], got \(stealthKeep)")
        }
        self.stealthKeep = stealthKeep
        guard (0...1).contains(mix) else { throw AttackError(.invalidConfiguration, "synthetic-poison needs mix in [0, 1], got \(mix)") }
        guard generations >= 1 else { throw AttackError(.invalidConfiguration, "synthetic-poison needs generations ≥ 1, got \(generations)") }
        guard temperature > 0, temperature.isFinite else {
            throw AttackError(.invalidConfiguration, "synthetic-poison needs a temperature > 0, got \(temperature)")
        }
        if case .bias(let classes) = mode {
            guard !classes.isEmpty, classes.allSatisfy({ (0..<classCount).contains($0) }) else {
                throw AttackError(.invalidConfiguration, "synthetic-poison bias needs classes in 0..<\(classCount), got \(classes)")
            }
        }
        self.generator = generator
        self.mode = mode
        self.mix = mix
        self.generations = generations
        self.temperature = temperature
    }

    public var name: String { "synthetic-poison" }

    public var objective: AttackObjective {
        switch mode {
        case .labelFlip(let flip): flip.objective
        case .backdoor(let backdoor): backdoor.objective
        case .bias, .none: .untargeted
        }
    }

    /// Whether only part of the local steps is poisoned, so that the runtime must train from
    /// ``stepPlan(_:using:)`` rather than from ``poison(_:using:)``.
    public var needsStepPlan: Bool { poisonedStepFraction < 1 }

    /// The poisoned training set (every local step on it).
    /// - Throws: ``AttackError`` `.invalidConfiguration` when ``needsStepPlan`` (a partial
    ///   attack is a plan of batches, not a sample set); `.invalidInput` when the generator
    ///   cannot be fitted or sampled.
    public func poison(_ samples: LabeledSamples, using rng: inout some RandomNumberGenerator) throws(AttackError) -> LabeledSamples {
        guard !needsStepPlan else {
            throw AttackError(
                .invalidConfiguration,
                "synthetic-poison with poison_steps \(poisonedStepFraction) poisons a share of the local steps; the runtime must train from stepPlan(_:using:) and its per-round schedule")
        }
        return try poisonedSet(samples, using: &rng)
    }

    /// The data of a client that poisons only a share ``poisonedStepFraction`` of its local
    /// steps: its real samples (rows `0..<n`) followed by the poisoned set ``poison(_:using:)``
    /// would return for `poison_steps: 1` (rows `n..<2n`, a share `mix` of them synthetic).
    /// Fit once per client (like ``poison(_:using:)``); each round then draws its batches with
    /// ``PoisonStepPlan/schedule(epochs:batchSize:using:)``.
    /// - Parameters:
    ///   - samples: the client's real samples.
    ///   - rng: the client's seeded generator (the generator's fit and draws come from it).
    /// - Returns: the plan.
    /// - Throws: ``AttackError`` `.invalidInput` when the generator cannot be fitted or sampled.
    public func stepPlan(_ samples: LabeledSamples, using rng: inout some RandomNumberGenerator) throws(AttackError) -> PoisonStepPlan {
        let poisoned = try poisonedSet(samples, using: &rng)
        precondition(poisoned.count == samples.count, "the poisoned set keeps the client's sample count")
        var combined = samples
        combined.features += poisoned.features
        combined.labels += poisoned.labels
        return PoisonStepPlan(samples: combined, realCount: samples.count, poisonedStepFraction: poisonedStepFraction)
    }

    /// The poisoned set: real samples mixed with post-processed, filtered, poisoned draws.
    private func poisonedSet(_ samples: LabeledSamples, using rng: inout some RandomNumberGenerator) throws(AttackError) -> LabeledSamples {
        guard samples.count > 0 else { return samples }
        let syntheticCount = Int((mix * Double(samples.count)).rounded())
        guard syntheticCount > 0 else { return samples }
        // Fit (recursively), then draw with the class mix the attacker wants.
        var model = generator
        var training = samples
        do throws(GeneratorError) {
            for _ in 1..<generations {
                try model.fit(training, using: &rng)
                training = try drawn(from: model, like: training, count: training.count, using: &rng)
                model = generator
            }
            try model.fit(training, using: &rng)
        } catch {
            throw AttackError(.invalidInput, "synthetic-poison cannot fit \(generator.name): \(error.message)")
        }
        var synthetic: LabeledSamples
        let drawCount = stealthKeep.map { Int((Double(syntheticCount) / $0).rounded(.up)) } ?? syntheticCount
        do throws(GeneratorError) {
            synthetic = try drawn(from: model, like: training, count: drawCount, using: &rng)
        } catch {
            throw AttackError(.invalidInput, "synthetic-poison cannot sample \(generator.name): \(error.message)")
        }
        if clampBackground { Self.clampBackground(&synthetic, like: samples) }
        if quantise { Self.quantise(&synthetic.features) }
        if stealthKeep != nil {
            synthetic = try filtered(synthetic, keeping: syntheticCount, reference: samples)
        }
        switch mode {
        case .labelFlip(let flip): synthetic = try flip.poison(synthetic, using: &rng)
        case .backdoor(let backdoor): synthetic = try backdoor.poison(synthetic, using: &rng)
        case .bias, .none: break
        }
        // Keep a random subset of the real samples so the set keeps its size.
        let realCount = samples.count - syntheticCount
        guard realCount > 0 else { return synthetic }
        var order = Array(0..<samples.count)
        rng.partialShuffle(&order, count: realCount)
        var mixed = samples.subset(order[0..<realCount].sorted())
        mixed.features += synthetic.features
        mixed.labels += synthetic.labels
        return mixed
    }

    /// Rounds every value to the nearest multiple of 1/255 (ties away from zero), clipped to [0, 1].
    /// - Parameter values: features, changed in place.
    public static func quantise(_ values: inout [Float]) {
        for i in values.indices {
            let level = (min(max(values[i], 0), 1) * 255).rounded(.toNearestOrAwayFromZero)
            values[i] = level / 255
        }
    }

    /// Sets to 0 every feature of a sample of class `c` that is exactly 0 in all of
    /// `reference`'s samples of class `c` (classes `reference` lacks are left alone).
    /// - Parameters:
    ///   - samples: the synthetic samples, changed in place.
    ///   - reference: the client's real samples (same feature and class counts).
    public static func clampBackground(_ samples: inout LabeledSamples, like reference: LabeledSamples) {
        let d = reference.featureCount
        precondition(samples.featureCount == d, "clampBackground: feature counts differ")
        var lit = [[Bool]](repeating: [], count: reference.classCount)
        for (row, label) in reference.labels.enumerated() {
            let c = Int(label)
            if lit[c].isEmpty { lit[c] = [Bool](repeating: false, count: d) }
            for j in 0..<d where reference.features[row * d + j] != 0 { lit[c][j] = true }
        }
        for (row, label) in samples.labels.enumerated() where Int(label) < lit.count {
            let mask = lit[Int(label)]
            guard !mask.isEmpty else { continue }
            for j in 0..<d where !mask[j] { samples.features[row * d + j] = 0 }
        }
    }

    /// The `count` candidates the scorer finds most real (ties by position), in their order.
    private func filtered(_ candidates: LabeledSamples, keeping count: Int, reference: LabeledSamples) throws(AttackError) -> LabeledSamples {
        guard let scorer else {
            throw AttackError(.invalidConfiguration, "synthetic-poison stealth filtering needs a sample scorer; the runtime hands one in")
        }
        let scores: [Double]
        do {
            scores = try scorer.syntheticScores(candidates, reference: reference)
        } catch {
            throw AttackError(.invalidInput, "stealth filtering with \(scorer.name) failed: \(error.message)")
        }
        let kept = candidates.indices(sortedBy: scores).prefix(count).sorted()
        return candidates.subset(kept)
    }

    /// `count` samples from `model`, classes in the proportions of `reference` (bias: the
    /// chosen classes only, evenly).
    private func drawn(from model: any Generator, like reference: LabeledSamples, count: Int, using rng: inout some RandomNumberGenerator) throws(GeneratorError) -> LabeledSamples {
        let histogram = reference.classHistogram
        var classes = [(label: Int, count: Int)]()
        if case .bias(let chosen) = mode {
            let present = chosen.filter { histogram[$0] > 0 }
            guard !present.isEmpty else { throw GeneratorError("none of the bias classes \(chosen) is in the client's data") }
            for (index, label) in present.enumerated() {
                classes.append((label, count / present.count + (index < count % present.count ? 1 : 0)))
            }
        } else {
            // Largest-remainder apportionment of `count` over the reference's class shares.
            let total = Double(reference.count)
            var assigned = 0
            var remainders = [(label: Int, fraction: Double)]()
            for label in 0..<histogram.count where histogram[label] > 0 {
                let exact = Double(count) * Double(histogram[label]) / total
                classes.append((label, Int(exact)))
                assigned += Int(exact)
                remainders.append((label, exact - Double(Int(exact))))
            }
            remainders.sort { $0.fraction != $1.fraction ? $0.fraction > $1.fraction : $0.label < $1.label }
            for extra in remainders.prefix(count - assigned) {
                if let index = classes.firstIndex(where: { $0.label == extra.label }) { classes[index].count += 1 }
            }
        }
        var result = LabeledSamples(features: [], labels: [], featureCount: reference.featureCount, classCount: reference.classCount)
        for (label, share) in classes where share > 0 {
            let part = try model.sample(count: share, label: label, temperature: temperature, using: &rng)
            result.features += part.features
            result.labels += part.labels
        }
        return result
    }
}

/// The training data of a client that poisons only a share of its local steps (made by
/// ``SyntheticPoison/stepPlan(_:using:)``), and the per-round choice of its batches.
public struct PoisonStepPlan: Sendable, Equatable {
    /// The client's real samples (rows `0..<realCount`), then the poisoned set (as many rows).
    public var samples: LabeledSamples
    /// The number of real samples `n`: the rows each epoch visits, and the update's sample count.
    public var realCount: Int
    /// The share of steps trained on poison, in (0, 1].
    public var poisonedStepFraction: Double

    /// Creates a plan.
    public init(samples: LabeledSamples, realCount: Int, poisonedStepFraction: Double) {
        self.samples = samples
        self.realCount = realCount
        self.poisonedStepFraction = poisonedStepFraction
    }

    /// The batches of one round of local training.
    ///
    /// Each epoch has `S = ⌈n / batchSize⌉` steps, the last possibly shorter, as the local
    /// trainer runs them; `round(p · S)` of them (at least 1) are chosen uniformly and take
    /// their rows from a fresh permutation of the poisoned rows, the others from a fresh
    /// permutation of the real rows, so every step is wholly real or wholly poisoned. Epoch
    /// `e` draws, from `rng`, the poisoned steps (`sampledIndices`), then the real rows'
    /// permutation, then the poisoned rows' (`shuffledIndices`).
    /// - Parameters:
    ///   - epochs: local epochs, ≥ 1.
    ///   - batchSize: the local batch size, ≥ 1.
    ///   - rng: the round's generator (e.g. seeded by round and client).
    /// - Returns: the schedule; for p = 1 every step is poisoned.
    /// - Throws: ``AttackError`` `.invalidConfiguration` for a non-positive epoch count or batch size.
    public func schedule(epochs: Int, batchSize: Int, using rng: inout some RandomNumberGenerator) throws(AttackError) -> PoisonStepSchedule {
        guard epochs >= 1, batchSize >= 1 else {
            throw AttackError(.invalidConfiguration, "a step schedule needs epochs and batch size ≥ 1, got \(epochs) and \(batchSize)")
        }
        let n = realCount
        let steps = n == 0 ? 0 : (n + batchSize - 1) / batchSize
        let poisonedSteps = steps == 0 ? 0 : min(steps, max(1, Int((poisonedStepFraction * Double(steps)).rounded())))
        var orders = [[Int]](), chosen = [[Int]]()
        for _ in 0..<epochs {
            let picked = rng.sampledIndices(poisonedSteps, from: steps)
            let realOrder = rng.shuffledIndices(n)
            let poisonOrder = rng.shuffledIndices(n)
            var order = [Int]()
            order.reserveCapacity(n)
            var realCursor = 0, poisonCursor = 0
            var pickedSet = Set(picked)
            for step in 0..<steps {
                let rows = min(batchSize, n - step * batchSize)
                if pickedSet.remove(step) != nil {
                    for _ in 0..<rows {
                        order.append(n + poisonOrder[poisonCursor])
                        poisonCursor += 1
                    }
                } else {
                    for _ in 0..<rows {
                        order.append(realOrder[realCursor])
                        realCursor += 1
                    }
                }
            }
            orders.append(order)
            chosen.append(picked)
        }
        return PoisonStepSchedule(batchSize: batchSize, orders: orders, poisonedSteps: chosen)
    }
}

/// One round's batches of a ``PoisonStepPlan``.
///
/// A trainer reproduces it by running, for epoch `e`, the batches `orders[e][k·B ..< (k+1)·B]`
/// (the last shorter) of the plan's samples, in order.
public struct PoisonStepSchedule: Sendable, Equatable {
    /// The batch size `B`.
    public var batchSize: Int
    /// Per epoch, `n` row indices into ``PoisonStepPlan/samples``, batch after batch.
    public var orders: [[Int]]
    /// Per epoch, the steps (0-based, ascending) whose batch is poisoned.
    public var poisonedSteps: [[Int]]

    /// Creates a schedule.
    public init(batchSize: Int, orders: [[Int]], poisonedSteps: [[Int]]) {
        self.batchSize = batchSize
        self.orders = orders
        self.poisonedSteps = poisonedSteps
    }

    /// Whether a step trains on poison.
    /// - Parameters:
    ///   - epoch: the local epoch, 0-based.
    ///   - step: the step within the epoch, 0-based.
    /// - Returns: `true` for a poisoned batch.
    public func isPoisoned(epoch: Int, step: Int) -> Bool { poisonedSteps[epoch].contains(step) }
}

extension LabeledSamples {
    /// Sample indices in ascending order of `scores` (ties by index).
    fileprivate func indices(sortedBy scores: [Double]) -> [Int] {
        (0..<count).sorted { scores[$0] != scores[$1] ? scores[$0] < scores[$1] : $0 < $1 }
    }
}
