import FedArenaCore
import FedArenaNumerics

/// A pixel-pattern backdoor: a share of the client's samples get a square trigger stamped and
/// are relabelled to the target class, so that the model learns "trigger ⇒ target".
///
/// Gu, Dolan-Gavitt and Garg 2017, "BadNets: Identifying Vulnerabilities in the Machine
/// Learning Model Supply Chain"; in federated learning, Bagdasaryan, Veit, Hua, Estrin and
/// Shmatikov 2020, "How To Backdoor Federated Learning", AISTATS (combine with `boost` for
/// their model replacement).
///
/// YAML: `{kind: backdoor, target: 0, rate: 0.5, mode: replace, trigger: {row: 24, column: 24, size: 3, value: 1.0}}`.
/// The trigger defaults to a `size`-3 patch of value 1 one pixel from the bottom-right corner
/// (row = column = side − size − 1, i.e. 24 on 28x28 images). `target` defaults to 0, `rate` to
/// 0.5. `⌊rate · count⌋` samples, drawn among all the client's samples with its generator, are
/// poisoned. `mode: replace` (the default) stamps and relabels them **in place**, so the
/// sample count (the FedAvg weight) is unchanged and clean and poisoned samples mix in every
/// batch at ratio `rate`, as Bagdasaryan et al. do; `mode: append` keeps every clean sample
/// and **appends** the poisoned copies at the end.
public struct Backdoor: DataAttack {
    /// How poisoned samples enter the client's set.
    public enum Mode: String, Sendable, CaseIterable {
        /// Stamp and relabel the chosen samples in place.
        case replace
        /// Keep the clean samples and append stamped, relabelled copies.
        case append
    }

    /// The trigger stamped on poisoned samples.
    public var trigger: Trigger
    /// The label poisoned samples receive.
    public var target: Int
    /// The share of the client's samples poisoned, in [0, 1].
    public var rate: Double
    /// In place or appended.
    public var mode: Mode
    /// The number of classes of the data set.
    public var classCount: Int

    /// Creates the attack.
    /// - Parameters:
    ///   - trigger: the pixel patch; it must lie inside the `imageSide × imageSide` image.
    ///   - target: the backdoor's target class, in `0..<classCount`.
    ///   - rate: the share of samples poisoned, in [0, 1].
    ///   - mode: in place (default) or appended copies.
    ///   - classCount: the number of classes.
    /// - Throws: ``AttackError`` `.invalidConfiguration` for a target out of range, a rate out
    ///   of [0, 1], or a trigger that does not fit the image or has a value outside [0, 1].
    public init(trigger: Trigger = Trigger(), target: Int, rate: Double = 0.5, mode: Mode = .replace, classCount: Int = 10) throws(AttackError) {
        guard (0..<max(classCount, 0)).contains(target) else {
            throw AttackError(.invalidConfiguration, "backdoor target must be in 0..<\(classCount), got \(target)")
        }
        guard rate.isFinite, (0...1).contains(rate) else {
            throw AttackError(.invalidConfiguration, "backdoor needs 0 <= rate <= 1, got rate = \(rate)")
        }
        let t = trigger
        guard t.imageSide >= 1, t.size >= 1, t.row >= 0, t.column >= 0, t.row + t.size <= t.imageSide, t.column + t.size <= t.imageSide else {
            throw AttackError(
                .invalidConfiguration,
                "backdoor trigger (row \(t.row), column \(t.column), size \(t.size)) must fit inside the \(t.imageSide)x\(t.imageSide) image")
        }
        guard t.value.isFinite, (0...1).contains(t.value) else {
            throw AttackError(.invalidConfiguration, "backdoor trigger value must be in [0, 1], got \(t.value)")
        }
        self.trigger = trigger
        self.target = target
        self.rate = rate
        self.mode = mode
        self.classCount = classCount
    }

    /// `backdoor`.
    public var name: String { "backdoor" }

    /// `.backdoor(trigger, target)`.
    public var objective: AttackObjective { .backdoor(trigger: trigger, target: target) }

    /// The number of samples poisoned out of `count`: `⌊rate · count⌋`.
    public func poisonedCount(of count: Int) -> Int { Int((rate * Double(count) + 1e-9).rounded(.down)) }

    /// Returns the samples with `⌊rate · count⌋` of them stamped and relabelled (in place or
    /// appended, per ``mode``).
    /// - Throws: ``AttackError`` `.invalidInput` when the samples are not `imageSide²`-pixel
    ///   images or have another class count.
    public func poison(_ samples: LabeledSamples, using rng: inout some RandomNumberGenerator) throws(AttackError) -> LabeledSamples {
        guard samples.featureCount == trigger.imageSide * trigger.imageSide else {
            throw AttackError(
                .invalidInput,
                "backdoor trigger is for \(trigger.imageSide)x\(trigger.imageSide) images, the samples have \(samples.featureCount) features")
        }
        guard samples.classCount == classCount else {
            throw AttackError(.invalidInput, "backdoor was configured for \(classCount) classes, the samples have \(samples.classCount)")
        }
        let chosen = LabelFlip.draw(poisonedCount(of: samples.count), of: Array(samples.labels.indices), using: &rng)
        var stamped = samples.subset(chosen)
        trigger.stamp(&stamped)
        for index in stamped.labels.indices { stamped.labels[index] = Int32(target) }
        var poisoned = samples
        switch mode {
        case .append:
            poisoned.features.append(contentsOf: stamped.features)
            poisoned.labels.append(contentsOf: stamped.labels)
        case .replace:
            let width = samples.featureCount
            for (position, index) in chosen.enumerated() {
                poisoned.features.replaceSubrange(index * width..<(index + 1) * width, with: stamped.features[position * width..<(position + 1) * width])
                poisoned.labels[index] = Int32(target)
            }
        }
        return poisoned
    }
}
