import FedArenaCore

/// The coordinator's detection step: run every detector, fuse, decide.
///
/// Detectors run in order and share one memory: each receives the memory the previous one
/// returned (their keys are namespaced by detector name), then the fusion adds its `fusion.*`
/// keys. The runtime keeps ``DetectionReport/memory`` for the next round (and checkpoints it).
///
/// ```swift
/// let pipeline = try DetectorRegistry.standard(model: .softmax).makePipeline(specs, policy: policy)
/// let report = try pipeline.run(updates, context: context, using: &rng)
/// let kept = report.kept(updates)          // excluded updates removed
/// report.decisions[client]?.weight         // 1, a down-weight factor, or 0
/// ```
public struct DetectionPipeline: Sendable {
    /// The detectors, in order.
    public var detectors: [any Detector]
    /// The fusion and decision rule.
    public var fusion: SuspicionFusion

    /// Creates a pipeline.
    public init(detectors: [any Detector], policy: DetectionPolicy) {
        self.detectors = detectors
        self.fusion = SuspicionFusion(policy: policy)
    }

    /// What the detectors need from the runtime, merged.
    public var requirements: DetectorRequirements {
        detectors.reduce(DetectorRequirements()) { $0.merged(with: $1.requirements) }
    }

    /// Scores, fuses and decides one round.
    /// - Parameter calibrate: whether the round may join the threshold's calibration pool
    ///   (see ``SuspicionFusion``).
    /// - Throws: the first ``DetectionError`` a detector throws.
    public func run(
        _ updates: [ClientUpdate], context: DetectionContext, calibrate: Bool = true, using rng: inout some RandomNumberGenerator
    ) throws(DetectionError) -> DetectionReport {
        var memory = context.memory
        var outputs = [(detector: String, suspicions: [ClientID: Suspicion])]()
        for detector in detectors {
            var local = context
            local.memory = memory
            let output = try detector.detect(updates, context: local, using: &rng)
            if let next = output.memory { memory = next }
            outputs.append((detector.name, output.suspicions))
        }
        let outcome = fusion.fuse(outputs, clients: updates.map(\.client), memory: memory, calibrate: calibrate)
        return DetectionReport(
            round: context.round, suspicions: Dictionary(outputs.map { ($0.detector, $0.suspicions) }, uniquingKeysWith: { a, _ in a }),
            decisions: outcome.decisions, threshold: outcome.threshold, calibrating: outcome.calibrating, memory: outcome.memory)
    }
}

/// What the detection step decided in one round.
public struct DetectionReport: Sendable, Equatable {
    /// The round.
    public var round: Int
    /// Each detector's suspicions, by detector name.
    public var suspicions: [String: [ClientID: Suspicion]]
    /// The decision per client.
    public var decisions: [ClientID: DetectionDecision]
    /// The threshold in force.
    public var threshold: Double
    /// Whether the threshold was still provisional.
    public var calibrating: Bool
    /// The memory to hand back next round.
    public var memory: AggregatorMemory

    /// The flagged clients.
    public var flagged: Set<ClientID> { Set(decisions.values.filter(\.flagged).map(\.client)) }

    /// The smoothed score of every client (for ``DetectionMetrics``).
    public var scores: [ClientID: Double] { decisions.mapValues(\.score) }

    /// `updates` without the excluded ones.
    public func kept(_ updates: [ClientUpdate]) -> [ClientUpdate] {
        updates.filter { decisions[$0.client]?.action != .exclude }
    }
}
