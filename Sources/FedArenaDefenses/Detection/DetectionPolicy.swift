import FedArenaCore

/// What the coordinator does with the fused suspicion scores (`defense.detection_policy`).
///
/// ```yaml
/// defense:
///   detection_policy: {action: exclude, target_fpr: 0.05, calibration_rounds: 3, smoothing: 0.5}
/// ```
///
/// Keys (all optional): `action` (`exclude` | `downweight` | `report`, default `exclude`;
/// `report` scores and logs but never acts), `combine` (`max` | `mean` of the detector scores,
/// default `max`), `normalize` (`none` | `robust-z`: replace each detector's scores by
/// `suspicion(robust z across the round)` before combining, default `none`), `target_fpr`
/// (default 0.05), `calibration_rounds` (default 3; 0 keeps `initial_threshold` for good),
/// `smoothing` (the EMA weight of the past, in [0, 1), default 0.5), `threshold` (a fixed
/// threshold that skips calibration), `initial_threshold` (used while calibrating, default 0.9),
/// `min_threshold` (a floor for the calibrated threshold, default 0.2) and
/// `max_flagged_fraction` (at most this share of a round's clients is flagged, the most
/// suspicious first; default 0.5, the honest-majority assumption), and `detector_thresholds`
/// (a threshold per detector name, each calibrated on that detector's own honest scores; needs a
/// fixed `threshold`, see ``SuspicionFusion``).
public struct DetectionPolicy: Sendable, Equatable {
    /// What happens to a flagged client.
    public enum Action: String, Sendable, Equatable, CaseIterable {
        /// Drop its update.
        case exclude
        /// Scale its aggregation weight down (see ``DetectionDecision/Action/downweight(_:)``).
        case downweight
        /// Flag it in the record only.
        case report
    }

    /// How detector scores combine into one.
    public enum Combine: String, Sendable, Equatable, CaseIterable {
        /// The largest detector score.
        case max
        /// The mean detector score.
        case mean
    }

    /// The action on flagged clients.
    public var action: Action
    /// The combination of detector scores.
    public var combine: Combine
    /// Whether detector scores are re-standardised across the round before combining.
    public var robustNormalize: Bool
    /// The false-positive rate the calibrated threshold aims at.
    public var targetFPR: Double
    /// Rounds whose scores calibrate the threshold.
    public var calibrationRounds: Int
    /// The EMA weight of the past score: `s̃_t = smoothing · s̃_{t−1} + (1 − smoothing) · s_t`.
    public var smoothing: Double
    /// A fixed threshold (no calibration), or `nil`.
    public var fixedThreshold: Double?
    /// The threshold while calibrating.
    public var initialThreshold: Double
    /// The smallest threshold calibration may produce.
    public var minimumThreshold: Double
    /// The largest share of a round's clients that may be flagged.
    public var maxFlaggedFraction: Double
    /// Per-detector thresholds by detector name (empty: the fused threshold alone decides).
    public var detectorThresholds: [String: Double]

    /// Creates a policy.
    /// - Throws: ``DetectionError`` for values out of range.
    public init(
        action: Action = .exclude, combine: Combine = .max, robustNormalize: Bool = false, targetFPR: Double = 0.05,
        calibrationRounds: Int = 3, smoothing: Double = 0.5, fixedThreshold: Double? = nil, initialThreshold: Double = 0.9,
        minimumThreshold: Double = 0.2, maxFlaggedFraction: Double = 0.5, detectorThresholds: [String: Double] = [:]
    ) throws(DetectionError) {
        guard targetFPR > 0, targetFPR < 1 else { throw DetectionError("target_fpr must be in (0, 1), got \(targetFPR)") }
        guard calibrationRounds >= 0 else { throw DetectionError("calibration_rounds must be >= 0, got \(calibrationRounds)") }
        guard smoothing >= 0, smoothing < 1 else { throw DetectionError("smoothing must be in [0, 1), got \(smoothing)") }
        for (name, value) in [("threshold", fixedThreshold ?? 0.5), ("initial_threshold", initialThreshold), ("min_threshold", minimumThreshold), ("max_flagged_fraction", maxFlaggedFraction)] {
            guard value >= 0, value <= 1 else { throw DetectionError("\(name) must be in [0, 1], got \(value)") }
        }
        for (name, value) in detectorThresholds.sorted(by: { $0.key < $1.key }) {
            guard value > 0, value < 1 else { throw DetectionError("detector_thresholds.\(name) must be in (0, 1), got \(value)") }
        }
        if !detectorThresholds.isEmpty {
            guard fixedThreshold != nil else {
                throw DetectionError("detector_thresholds needs a fixed threshold (detection_policy.threshold) to map each detector's threshold onto")
            }
            guard !robustNormalize else { throw DetectionError("detector_thresholds and normalize: robust-z cannot be combined") }
        }
        self.detectorThresholds = detectorThresholds
        self.action = action
        self.combine = combine
        self.robustNormalize = robustNormalize
        self.targetFPR = targetFPR
        self.calibrationRounds = calibrationRounds
        self.smoothing = smoothing
        self.fixedThreshold = fixedThreshold
        self.initialThreshold = initialThreshold
        self.minimumThreshold = minimumThreshold
        self.maxFlaggedFraction = maxFlaggedFraction
    }

    /// The default policy.
    public static let standard: DetectionPolicy = {
        do throws(DetectionError) { return try DetectionPolicy() } catch { fatalError("default detection policy: \(error)") }
    }()

    /// Reads `defense.detection_policy`; unknown keys are rejected.
    /// - Throws: ``ConfigError`` at the offending key path.
    public static func read(_ reader: ConfigReader) throws(ConfigError) -> DetectionPolicy {
        let action = try reader.string("action", default: "exclude", allowed: Action.allCases.map(\.rawValue))
        let combine = try reader.string("combine", default: "max", allowed: Combine.allCases.map(\.rawValue))
        let normalize = try reader.string("normalize", default: "none", allowed: ["none", "robust-z"])
        let fpr = try reader.double("target_fpr", default: 0.05, range: 0.0001...0.9999)
        let rounds = try reader.int("calibration_rounds", default: 3, range: 0...1_000_000)
        let smoothing = try reader.double("smoothing", default: 0.5, range: 0...0.999)
        let threshold = reader.contains("threshold") ? try reader.double("threshold", range: 0...1) : nil
        if threshold == nil { _ = reader.raw("threshold") }
        let initial = try reader.double("initial_threshold", default: 0.9, range: 0...1)
        let minimum = try reader.double("min_threshold", default: 0.2, range: 0...1)
        let fraction = try reader.double("max_flagged_fraction", default: 0.5, range: 0...1)
        var perDetector = [String: Double]()
        if let thresholds = try reader.child("detector_thresholds") {
            for name in thresholds.keys { perDetector[name] = try thresholds.double(name, range: 0...1) }
            try thresholds.finish()
        }
        try reader.finish()
        do throws(DetectionError) {
            return try DetectionPolicy(
                action: Action(rawValue: action)!, combine: Combine(rawValue: combine)!, robustNormalize: normalize == "robust-z",
                targetFPR: fpr, calibrationRounds: rounds, smoothing: smoothing, fixedThreshold: threshold, initialThreshold: initial,
                minimumThreshold: minimum, maxFlaggedFraction: fraction, detectorThresholds: perDetector)
        } catch {
            throw ConfigError(.invalidValue, keyPath: reader.path, error.message)
        }
    }
}
