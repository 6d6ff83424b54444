import FedArenaCore
import FedArenaWire

/// The message-size limits of a run, from its model and its detectors' requests.
///
/// A coordinator (and the adversary process, which receives the same UPDATEs) sets
/// `ZMQ_MAXMSGSIZE` to ``DecodeLimits/maxMessageBytes`` of these limits and decodes with
/// them, so the largest frame a peer can make it allocate is one valid UPDATE of this run
/// (about `4 d` bytes plus the sketch and audit samples its detectors ask for), not 512 MiB.
public enum TransportLimits {
    /// The limits for messages a coordinator or adversary receives in a run of `config`.
    /// - Parameters:
    ///   - config: The scenario.
    ///   - featureCount: Features per sample (the size of a revealed audit sample).
    ///   - classCount: Classes (the rows of a sketch).
    /// - Returns: ``DecodeLimits/coordinator(parameterCount:clients:sketch:auditSamples:trainingAudit:)`` for the run.
    /// - Throws: ``RuntimeError`` `.configuration` when the model or the detectors cannot be built.
    public static func inbound(for config: ScenarioConfig, featureCount: Int, classCount: Int) throws(RuntimeError) -> DecodeLimits {
        let parameterCount = try ModelEngine(config: config).parameterCount
        let detection: DetectionEngine?
        do {
            detection = try DetectionEngine(config: config)
        } catch {
            throw RuntimeError(.configuration, "cannot build the detectors: \(error)", cause: error)
        }
        return DecodeLimits.coordinator(
            parameterCount: parameterCount, clients: config.clients.count,
            sketch: detection?.requirements.sketch.map { (classes: classCount, dimension: $0.dimension) },
            auditSamples: detection?.requirements.revealedSamples.map { (count: $0, featureCount: featureCount) },
            trainingAudit: detection?.requirements.trainingAudit.map { request in
                (
                    maxSteps: maxCommittedSteps(config), openedSteps: request.maxOpened, batchSize: config.training.batchSize,
                    featureCount: featureCount
                )
            })
    }

    /// The most local steps a client of `config` can commit to: `E · ⌈n / B⌉` for the largest
    /// possible partition `n` (the training subset, or one million samples without one).
    static func maxCommittedSteps(_ config: ScenarioConfig) -> Int {
        let samples = config.dataset.trainSubset ?? 1_000_000
        return config.training.localEpochs * ((samples + config.training.batchSize - 1) / config.training.batchSize)
    }
}
