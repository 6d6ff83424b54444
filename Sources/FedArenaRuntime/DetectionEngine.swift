import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import FedArenaSynthesis

/// The coordinator's detection step (`defense.detection`), run on every round's validated
/// updates before aggregation: detectors score each client, the policy fuses the scores into
/// decisions (accept, down-weight, exclude), and the ground-truth roles (when the scenario has
/// an attack) turn the decisions into detection rates. Roles are used only to measure.
struct DetectionEngine: Sendable {
    let pipeline: DetectionPipeline
    /// What the detectors declared they need from clients and the coordinator.
    let requirements: DetectorRequirements

    /// The scenario's detection, or `nil` without detectors.
    init?(config: ScenarioConfig) throws(ConfigError) {
        guard !config.defense.detection.isEmpty else { return nil }
        var registry = DetectorRegistry.standard
        registry.environment = DetectorRegistry.Environment(
            model: config.model, inputCount: config.dataset.featureCount, classCount: config.dataset.classCount)
        let policyReader = try ConfigReader(.object(config.defense.detectionPolicy), path: "defense.detection_policy")
        let policy = try DetectionPolicy.read(policyReader)
        pipeline = try registry.makePipeline(config.defense.detection, policy: policy)
        // The sketch and audit parameters are the built detectors' own, so clients and
        // coordinator can never read the options differently.
        requirements = pipeline.requirements
        if requirements.needsRootSet, config.dataset.rootSamples == 0 {
            throw ConfigError(
                .invalidValue, keyPath: "dataset.root_samples",
                "\(config.defense.detection.map(\.kind).joined(separator: ", ")) compare against the coordinator's root set: set dataset.root_samples (e.g. 500)")
        }
    }

    /// `count` of a client's training samples, drawn with the round's seed, for `audit-c2st`.
    static func auditSamples(_ samples: LabeledSamples, count: Int, roundSeed: UInt64, client: ClientID, seed: UInt64) -> LabeledSamples {
        var generator = SeededGenerator(seed: seed, stream: [RoundPlan.Stream.sketch.rawValue, roundSeed, UInt64(client.rawValue), 1])
        return samples.subset(generator.sample(min(count, samples.count), from: samples.count))
    }

    /// The reference synthetic set an audit contrasts with real data: samples of the
    /// reference generators (gaussian-pca and gmm), `rootSet.count / 2` from each, fitted on the
    /// root set, or with `holdout` on its even rows only. The odd rows then stay unseen by the
    /// generators, so `audit-c2st`'s `statistic: z` can draw its null for fresh real data from
    /// them (held-out samples the generators were fitted on look more synthetic than fresh ones:
    /// in the training audit's setting, every honest client's z came out near −7 when the null
    /// used them).
    /// - Returns: the samples and the rows the generators were fitted on.
    /// - Throws: ``RuntimeError`` `.configuration` when a reference generator cannot be fitted
    ///   on the root set (the audit would otherwise run without its reference).
    static func referenceSynthetic(rootSet: LabeledSamples, holdout: Bool, seed: UInt64) throws(RuntimeError) -> (samples: LabeledSamples, fittedOn: [Int]) {
        guard rootSet.count > 0 else {
            throw RuntimeError(.configuration, "the sample audit needs the coordinator's root set: set dataset.root_samples")
        }
        var result = LabeledSamples(features: [], labels: [], featureCount: rootSet.featureCount, classCount: rootSet.classCount)
        let fittedOn = Array(stride(from: 0, to: rootSet.count, by: holdout ? 2 : 1))
        let fitSet = holdout ? rootSet.subset(fittedOn) : rootSet
        let specs = [
            ComponentSpec(kind: "gaussian-pca", options: ["components": .int(10), "small_classes": .string("shrink")], keyPath: "reference"),
            ComponentSpec(kind: "gmm", options: ["components": .int(3), "small_classes": .string("shrink")], keyPath: "reference"),
        ]
        for (index, spec) in specs.enumerated() {
            var rng = SeededGenerator(seed: seed, stream: [RoundPlan.Stream.detection.rawValue, 0xA0D1, UInt64(index)])
            do {
                var generator = try GeneratorRegistry.standard.make(spec)
                try generator.fit(fitSet, using: &rng)
                let drawn = try generator.sample(count: rootSet.count / 2, label: nil, temperature: 1, using: &rng)
                result.features += drawn.features
                result.labels += drawn.labels
            } catch {
                throw RuntimeError(.configuration, "cannot fit the audit's reference generator \(spec.kind) on the root set: \(error)", cause: error)
            }
        }
        return (result, fittedOn)
    }

    /// A client's sketch of what it trained on, with this round's frequencies.
    /// - Throws: ``RuntimeError`` naming the client when the sketch cannot be built.
    static func sketch(
        _ samples: LabeledSamples, request: DetectorRequirements.Sketch, roundSeed: UInt64, client: ClientID, seed: UInt64
    ) throws(RuntimeError) -> DataSketch {
        var generator = SeededGenerator(seed: seed, stream: [RoundPlan.Stream.sketch.rawValue, roundSeed, UInt64(client.rawValue)])
        do {
            let noise = try request.noise.map { noise throws(DetectionError) in try SketchNoise(epsilon: noise.epsilon, delta: noise.delta) }
            return try DataSketchBuilder.make(
                samples: samples, roundSeed: roundSeed, dimension: request.dimension, bandwidth: request.bandwidth, noise: noise,
                using: &generator)
        } catch {
            throw RuntimeError(.configuration, "cannot sketch \(client)'s training data: \(error)", cause: error)
        }
    }
}
