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

    /// Creates the attack.
    /// - Throws: ``AttackError`` `.invalidConfiguration` for a mix outside [0, 1], fewer than 1
    ///   generation, a non-positive temperature, or bias classes outside `0..<classCount`.
    public init(
        generator: any Generator, mode: Mode, mix: Double = 1, generations: Int = 1, temperature: Double = 1, stealthKeep: Double? = nil,
        classCount: Int = 10
    ) throws(AttackError) {
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

    public func poison(_ samples: LabeledSamples, using rng: inout some RandomNumberGenerator) throws(AttackError) -> LabeledSamples {
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

extension LabeledSamples {
    /// Sample indices in ascending order of `scores` (ties by index).
    fileprivate func indices(sortedBy scores: [Double]) -> [Int] {
        (0..<count).sorted { scores[$0] != scores[$1] ? scores[$0] < scores[$1] : $0 < $1 }
    }
}
