import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics

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
        try policyReader.finish()
        pipeline = try registry.makePipeline(config.defense.detection, policy: policy)
        needsRootUpdate = config.defense.detection.contains { $0.kind == "root-audit" }
        if let spec = config.defense.detection.first(where: { $0.kind == "sketch-mmd" }) {
            let reader = try spec.reader()
            let dimension = try reader.int("dimension", default: DataSketchBuilder.defaultDimension, atLeast: 1)
            let bandwidth = try reader.positiveDouble("bandwidth", default: DataSketchBuilder.defaultBandwidth)
            var noise: SketchNoise?
            if reader.contains("noise_epsilon"), reader.contains("noise_delta") {
                noise = try? SketchNoise(epsilon: try reader.double("noise_epsilon"), delta: try reader.double("noise_delta"))
            }
            sketch = SketchRequest(dimension: dimension, bandwidth: bandwidth, noise: noise)
        } else {
            sketch = nil
        }
        if needsRootUpdate || sketch != nil, config.dataset.rootSamples == 0 {
            throw ConfigError(
                .invalidValue, keyPath: "dataset.root_samples",
                "root-audit and sketch-mmd compare against the coordinator's root set: set dataset.root_samples (e.g. 500)")
        }
    }

    /// A client's sketch of what it trained on, with this round's frequencies.
    static func sketch(_ samples: LabeledSamples, request: SketchRequest, roundSeed: UInt64, client: ClientID, seed: UInt64) -> DataSketch? {
        var generator = SeededGenerator(seed: seed, stream: [RoundPlan.Stream.sketch.rawValue, roundSeed, UInt64(client.rawValue)])
        return try? DataSketchBuilder.make(
            samples: samples, roundSeed: roundSeed, dimension: request.dimension, bandwidth: request.bandwidth, noise: request.noise,
            using: &generator)
    }
}
