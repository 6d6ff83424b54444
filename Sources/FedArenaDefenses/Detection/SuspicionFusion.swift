import FedArenaCore
import FedArenaNumerics
import Foundation

/// The decision about one client in one round.
public struct DetectionDecision: Sendable, Equatable {
    /// What to do with the client's update.
    public enum Action: Sendable, Equatable {
        /// Merge it as usual.
        case accept
        /// Merge it with trust weight ``ClientUpdate/weight`` = the factor, in [0, 1): the runtime
        /// sets the weight and each aggregation rule says what it does with it (FedAvg multiplies
        /// the sample-count weight, FLTrust the trust score, ...). The update itself is unchanged.
        case downweight(Double)
        /// Drop it.
        case exclude
    }

    /// The client.
    public var client: ClientID
    /// The action.
    public var action: Action
    /// Whether the smoothed score crossed the threshold (also under the `report` action).
    public var flagged: Bool
    /// The fused score of this round, before smoothing.
    public var fusedScore: Double
    /// The smoothed score the threshold is applied to.
    public var score: Double
    /// The threshold in force.
    public var threshold: Double
    /// One line per detector, most suspicious first: `root-audit 0.93: loss on the root set rose by 0.41 ...`.
    public var reasons: [String]

    /// The aggregation weight factor: 1, the down-weight factor, or 0.
    public var weight: Double {
        switch action {
        case .accept: 1
        case .downweight(let factor): factor
        case .exclude: 0
        }
    }
}

/// Fuses detector scores into one decision per client (the "fusion and the decision").
///
/// 1. Per client, combine the detectors' scores (`max` or `mean`; with `normalize: robust-z`
///    each detector's scores are first replaced by ``RobustZ/suspicion(_:center:width:)`` of
///    their robust z across the round's clients). With `detector_thresholds`, a listed detector
///    `d`'s score `s` is first mapped piecewise-linearly so that its own threshold `τ_d` lands on
///    the fixed threshold `τ`: `s τ / τ_d` up to `τ_d`, `τ + (s − τ_d)(1 − τ) / (1 − τ_d)` above
///    (monotone, 0 ↦ 0, 1 ↦ 1). With `max`, a round's fused score then exceeds `τ` exactly when
///    some detector exceeds its own threshold: detectors whose honest scores have different
///    tails (a C2ST z near 0, a label check with a heavier tail) each get a threshold calibrated
///    on their own scores instead of all sitting under the one the heaviest tail sets.
/// 2. Smooth over rounds with an EMA kept in memory (`fusion.ema.<client>`): a client seen for
///    the first time starts at its fused score.
/// 3. Threshold. A fixed `threshold` wins. Otherwise, until `calibration_rounds` rounds have
///    been pooled the `initial_threshold` decides, and the smoothed scores of the clients it
///    does *not* flag in rounds that may calibrate (`calibrate: true`, the default) are pooled
///    in `fusion.calibration` (so an attack running from the first round does not drag the
///    threshold up to its own scores). Then the threshold becomes the empirical
///    `(1 − target_fpr)` quantile of the pool — the `⌈(1 − α) N⌉`-th smallest value, flagging
///    `s > τ` strictly — floored at `min_threshold`, and is frozen in memory
///    (`fusion.threshold`). Its false-positive rate on further clean rounds is about
///    `target_fpr` when scores are exchangeable across rounds (EMA smoothing correlates them,
///    so the realised rate varies more from run to run). Attackers that stay under the initial
///    threshold and enter the pool only raise the threshold (fewer detections, never more false
///    positives).
/// 4. Decide: `s > τ` flags the client (at most `⌊max_flagged_fraction · n⌋` of the round,
///    exact for the decimal fraction written, highest first). `exclude` drops it; `downweight` multiplies its weight by
///    `½ (1 − s) / (1 − τ)`, clipped to [0, 1): half at the threshold, 0 at certainty; `report`
///    accepts it but marks it flagged.
public struct SuspicionFusion: Sendable, Equatable {
    /// The policy.
    public var policy: DetectionPolicy

    /// Creates the fusion.
    public init(policy: DetectionPolicy) { self.policy = policy }

    /// The memory key of a client's smoothed score.
    public static func emaKey(_ client: ClientID) -> String { "fusion.ema.\(client.rawValue)" }
    /// The memory key of the calibrated threshold.
    public static let thresholdKey = "fusion.threshold"
    /// The memory key of the number of calibration rounds seen.
    public static let calibratedRoundsKey = "fusion.calibration_rounds"
    /// The memory key of the pooled calibration scores.
    public static let calibrationKey = "fusion.calibration"

    /// The result of one round.
    public struct Outcome: Sendable, Equatable {
        /// One decision per client.
        public var decisions: [ClientID: DetectionDecision]
        /// The threshold used this round.
        public var threshold: Double
        /// Whether the threshold was still the provisional one.
        public var calibrating: Bool
        /// The memory for the next round.
        public var memory: AggregatorMemory
    }

    /// Fuses one round.
    /// - Parameters:
    ///   - suspicions: each detector's suspicions, by detector name (a client missing from a
    ///     detector's output counts as score 0 there).
    ///   - clients: the round's clients.
    ///   - memory: what the fusion kept (only `fusion.*` keys are read and written).
    ///   - calibrate: whether this round may join the calibration pool.
    public func fuse(
        _ suspicions: [(detector: String, suspicions: [ClientID: Suspicion])], clients: [ClientID], memory: AggregatorMemory, calibrate: Bool = true
    ) -> Outcome {
        var memory = memory
        let ordered = clients.sorted()
        var perDetector = suspicions.map { entry in ordered.map { entry.suspicions[$0]?.score ?? 0 } }
        if policy.robustNormalize {
            perDetector = perDetector.map { scores in RobustZ.scores(scores, minimumScale: 0.05).map { RobustZ.suspicion($0) } }
        }
        if let target = policy.fixedThreshold, !policy.detectorThresholds.isEmpty {
            for (index, entry) in suspicions.enumerated() {
                guard let own = policy.detectorThresholds[entry.detector] else { continue }
                perDetector[index] = perDetector[index].map { Self.map($0, threshold: own, onto: target) }
            }
        }
        var fused = [Double](repeating: 0, count: ordered.count)
        for index in ordered.indices {
            let values = perDetector.map { $0[index] }.filter { $0.isFinite }
            guard !values.isEmpty else { continue }
            fused[index] = policy.combine == .max ? values.max()! : values.reduce(0, +) / Double(values.count)
        }
        var smoothed = fused
        for (index, client) in ordered.enumerated() {
            if let previous = memory.scalars[Self.emaKey(client)] {
                smoothed[index] = policy.smoothing * previous + (1 - policy.smoothing) * fused[index]
            }
            memory.scalars[Self.emaKey(client)] = smoothed[index]
        }

        let threshold: Double
        var calibrating = false
        if let fixed = policy.fixedThreshold {
            threshold = fixed
        } else if let frozen = memory.scalars[Self.thresholdKey] {
            threshold = frozen
        } else {
            threshold = policy.initialThreshold
            calibrating = policy.calibrationRounds > 0
            if calibrating, calibrate {
                var pool = memory.vectors[Self.calibrationKey]?.values ?? []
                // Only clients the initial threshold leaves alone join the pool: an attack that
                // runs from the first round must not drag the threshold up to its own scores.
                pool += smoothed.filter { $0 <= policy.initialThreshold }.map { Float($0) }
                let seen = (memory.scalars[Self.calibratedRoundsKey] ?? 0) + 1
                memory.scalars[Self.calibratedRoundsKey] = seen
                if Int(seen) >= policy.calibrationRounds, !pool.isEmpty {
                    memory.scalars[Self.thresholdKey] = max(policy.minimumThreshold, Self.quantile(pool.map(Double.init), level: 1 - policy.targetFPR))
                    memory.vectors[Self.calibrationKey] = nil
                } else {
                    memory.vectors[Self.calibrationKey] = ParameterVector(pool)
                }
            }
        }

        let limit = FractionalCount.floor(policy.maxFlaggedFraction, of: ordered.count)
        let over = ordered.indices.filter { smoothed[$0] > threshold }.sorted { smoothed[$0] > smoothed[$1] }
        let flagged = Set(over.prefix(limit))
        var decisions = [ClientID: DetectionDecision]()
        for (index, client) in ordered.enumerated() {
            let isFlagged = flagged.contains(index)
            var action = DetectionDecision.Action.accept
            if isFlagged {
                switch policy.action {
                case .exclude: action = .exclude
                case .downweight: action = .downweight(min(0.999, max(0, 0.5 * (1 - smoothed[index]) / max(1 - threshold, 1e-12))))
                case .report: action = .accept
                }
            }
            var lines = suspicions.compactMap { entry -> (Double, String)? in
                guard let suspicion = entry.suspicions[client] else { return nil }
                return (suspicion.score, "\(entry.detector) \(ReasonFormat.number(suspicion.score, 2)): \(suspicion.reason)")
            }
            lines.sort { $0.0 > $1.0 }
            var reasons = lines.map(\.1)
            if !isFlagged, over.contains(index) { reasons.insert("above the threshold but beyond max_flagged_fraction", at: 0) }
            decisions[client] = DetectionDecision(
                client: client, action: action, flagged: isFlagged, fusedScore: fused[index], score: smoothed[index],
                threshold: threshold, reasons: reasons)
        }
        return Outcome(decisions: decisions, threshold: threshold, calibrating: calibrating, memory: memory)
    }

    /// The piecewise-linear map of a detector score `s` in [0, 1] with threshold `own` onto a
    /// scale whose threshold is `target` (``DetectionPolicy/detectorThresholds``); values outside
    /// [0, 1] are clipped first, NaN stays NaN.
    public static func map(_ s: Double, threshold own: Double, onto target: Double) -> Double {
        guard !s.isNaN else { return s }
        let clipped = min(1, max(0, s))
        return clipped <= own ? clipped * target / own : target + (clipped - own) * (1 - target) / (1 - own)
    }

    /// The `⌈level · N⌉`-th smallest value (1-based), clamped to the sample; `⌈level · N⌉` is
    /// exact for the decimal level written (``FractionalCount``: `level = 0.07`, `N = 100` is
    /// rank 7, though `0.07 × 100 = 7.000000000000001` in binary64).
    public static func quantile(_ values: [Double], level: Double) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        let rank = FractionalCount.ceiling(level, of: sorted.count)
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}
