import FedArenaCore
import FedArenaNumerics

/// Label flipping: the malicious client trains on its samples with wrong labels.
///
/// Untargeted (no `source`/`target`): every label `l` becomes `classCount − 1 − l` (`9 − l`
/// on Fashion-MNIST), as in Fang et al. 2020, "Local Model Poisoning Attacks to
/// Byzantine-Robust Federated Learning", USENIX Security. Targeted: samples of class `source`
/// are relabelled `target` (Tolpegin, Truex, Gursoy and Liu 2020, "Data Poisoning Attacks
/// Against Federated Learning Systems", ESORICS).
///
/// YAML: `{kind: label-flip, source: 0, target: 6, rate: 1.0}`. `rate` ∈ [0, 1] is the share
/// of *eligible* samples flipped (all samples when untargeted, the `source`-class samples when
/// targeted): `⌊rate · eligible⌋` of them, drawn with the client's generator (all of them, in
/// order, without drawing, when `rate` is 1). Features and sample count are unchanged.
public struct LabelFlip: DataAttack {
    /// The class whose samples are relabelled, or `nil` for the untargeted flip.
    public var source: Int?
    /// The label they receive (targeted only).
    public var target: Int?
    /// The share of eligible samples flipped.
    public var rate: Double
    /// The number of classes of the data set.
    public var classCount: Int

    /// Creates the attack.
    /// - Parameters:
    ///   - source: the flipped class (targeted), or `nil` with `target` `nil` (untargeted).
    ///   - target: the new label of the flipped samples (targeted), or `nil`.
    ///   - rate: the share of eligible samples flipped, in [0, 1].
    ///   - classCount: the number of classes, at least 2.
    /// - Throws: ``AttackError`` `.invalidConfiguration` when only one of `source`/`target` is
    ///   given, either lies outside `0..<classCount`, they are equal, or `rate` is outside [0, 1].
    public init(source: Int? = nil, target: Int? = nil, rate: Double = 1, classCount: Int = 10) throws(AttackError) {
        guard classCount >= 2 else {
            throw AttackError(.invalidConfiguration, "label-flip needs at least 2 classes, got \(classCount)")
        }
        guard rate.isFinite, (0...1).contains(rate) else {
            throw AttackError(.invalidConfiguration, "label-flip needs 0 <= rate <= 1, got rate = \(rate)")
        }
        switch (source, target) {
        case (nil, nil): break
        case (let source?, let target?):
            for (name, value) in [("source", source), ("target", target)] where !(0..<classCount).contains(value) {
                throw AttackError(.invalidConfiguration, "label-flip \(name) must be in 0..<\(classCount), got \(value)")
            }
            if source == target {
                throw AttackError(.invalidConfiguration, "label-flip source and target are both \(source); nothing would flip")
            }
        default:
            throw AttackError(.invalidConfiguration, "label-flip needs both source and target (targeted) or neither (all labels l -> \(classCount - 1) - l)")
        }
        self.source = source
        self.target = target
        self.rate = rate
        self.classCount = classCount
    }

    /// `label-flip`.
    public var name: String { "label-flip" }

    /// `.targetedFlip(source, target)` when targeted, else `.untargeted`.
    public var objective: AttackObjective {
        if let source, let target { return .targetedFlip(source: source, target: target) }
        return .untargeted
    }

    /// The label sample `label` receives when flipped.
    public func flipped(_ label: Int) -> Int {
        if let target { return target }
        return classCount - 1 - label
    }

    /// Returns `samples` with `⌊rate · eligible⌋` eligible labels flipped.
    /// - Throws: ``AttackError`` `.invalidInput` when the samples' `classCount` differs from the
    ///   attack's.
    public func poison(_ samples: LabeledSamples, using rng: inout some RandomNumberGenerator) throws(AttackError) -> LabeledSamples {
        guard samples.classCount == classCount else {
            throw AttackError(.invalidInput, "label-flip was configured for \(classCount) classes, the samples have \(samples.classCount)")
        }
        let eligible = samples.labels.indices.filter { source == nil || Int(samples.labels[$0]) == source }
        let chosen: [Int]
        if rate >= 1 {
            chosen = eligible
        } else {
            let count = FractionalCount.floor(rate, of: eligible.count)
            chosen = Self.draw(count, of: eligible, using: &rng)
        }
        var poisoned = samples
        for index in chosen { poisoned.labels[index] = Int32(flipped(Int(samples.labels[index]))) }
        return poisoned
    }

    /// `count` distinct elements of `pool` drawn by a partial Fisher-Yates shuffle, sorted.
    static func draw(_ count: Int, of pool: [Int], using rng: inout some RandomNumberGenerator) -> [Int] {
        var pool = pool
        let count = min(count, pool.count)
        rng.partialShuffle(&pool, count: count)
        return pool[0..<count].sorted()
    }
}
