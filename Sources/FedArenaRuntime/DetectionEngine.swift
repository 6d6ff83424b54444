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
    /// Sketch parameters clients must use, when a detector reads sketches.
    let sketch: SketchRequest?
    /// Whether a detector needs the coordinator's own root update.
    let needsRootUpdate: Bool
    /// Training samples each client reveals per round for `audit-c2st` (opt-in), or `nil`.
    let auditSamplesPerClient: Int?

    /// What clients compute beside their update.
    struct SketchRequest: Sendable, Equatable {
        var dimension: Int
        var bandwidth: Double
        var noise: SketchNoise?
    }

    /// The scenario's detection, or `nil` without detectors.
    init?(config: ScenarioConfig) throws(ConfigError) {
        guard !config.defense.detection.isEmpty else { return nil }
        var registry = DetectorRegistry.standard
        registry.environment = DetectorRegistry.Environment(model: config.model)
        let policyReader = try ConfigReader(.object(config.defense.detectionPolicy), path: "defense.detection_policy")
        let policy = try DetectionPolicy.read(policyReader)
        pipeline = try registry.makePipeline(config.defense.detection, policy: policy)
        // The sketch and audit parameters are the built detectors' own, so clients and
        // coordinator can never read the options differently.
        needsRootUpdate = pipeline.detectors.contains { $0 is RootAudit }
        sketch = pipeline.detectors.lazy.compactMap { $0 as? SketchMMD }.first.map {
            SketchRequest(dimension: $0.dimension, bandwidth: $0.bandwidth, noise: $0.noise)
        }
        auditSamplesPerClient = pipeline.detectors.lazy.compactMap { $0 as? AuditC2ST }.first?.samplesPerClient
        if needsRootUpdate || sketch != nil || auditSamplesPerClient != nil, config.dataset.rootSamples == 0 {
            throw ConfigError(
                .invalidValue, keyPath: "dataset.root_samples",
                "root-audit, sketch-mmd and audit-c2st compare against the coordinator's root set: set dataset.root_samples (e.g. 500)")
        }
    }

    /// `count` of a client's training samples, drawn with the round's seed, for `audit-c2st`.
    static func auditSamples(_ samples: LabeledSamples, count: Int, roundSeed: UInt64, client: ClientID, seed: UInt64) -> LabeledSamples {
        var generator = SeededGenerator(seed: seed, stream: [RoundPlan.Stream.sketch.rawValue, roundSeed, UInt64(client.rawValue), 1])
        return samples.subset(generator.sample(min(count, samples.count), from: samples.count))
    }

    /// The reference synthetic set `audit-c2st` contrasts with real data: samples of the
    /// reference generators (gaussian-pca and gmm) fitted on the coordinator's root set.
    static func referenceSynthetic(rootSet: LabeledSamples, seed: UInt64) -> LabeledSamples? {
        guard rootSet.count > 0 else { return nil }
        var result = LabeledSamples(features: [], labels: [], featureCount: rootSet.featureCount, classCount: rootSet.classCount)
        let specs = [
            ComponentSpec(kind: "gaussian-pca", options: ["components": .int(10), "small_classes": .string("shrink")], keyPath: "reference"),
            ComponentSpec(kind: "gmm", options: ["components": .int(3), "small_classes": .string("shrink")], keyPath: "reference"),
        ]
        for (index, spec) in specs.enumerated() {
            guard var generator = try? GeneratorRegistry.standard.make(spec) else { continue }
            var rng = SeededGenerator(seed: seed, stream: [RoundPlan.Stream.detection.rawValue, 0xA0D1, UInt64(index)])
            guard (try? generator.fit(rootSet, using: &rng)) != nil,
                let drawn = try? generator.sample(count: rootSet.count / 2, label: nil, temperature: 1, using: &rng)
            else { continue }
            result.features += drawn.features
            result.labels += drawn.labels
        }
        return result.count > 0 ? result : nil
    }

    /// A client's sketch of what it trained on, with this round's frequencies.
    static func sketch(_ samples: LabeledSamples, request: SketchRequest, roundSeed: UInt64, client: ClientID, seed: UInt64) -> DataSketch? {
        var generator = SeededGenerator(seed: seed, stream: [RoundPlan.Stream.sketch.rawValue, roundSeed, UInt64(client.rawValue)])
        return try? DataSketchBuilder.make(
            samples: samples, roundSeed: roundSeed, dimension: request.dimension, bandwidth: request.bandwidth, noise: request.noise,
            using: &generator)
    }
}
