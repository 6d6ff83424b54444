import FedArenaCore

/// What to do with a round that dropouts left too small for the configured rule (its
/// ``Aggregator/validate(inputCount:)`` throws at run time).
///
/// The runtime calls ``aggregate(with:updates:context:using:)`` instead of the rule directly:
/// when the rule accepts the round it runs as usual; otherwise the policy decides.
/// - ``median``: merge what arrived with the coordinate-wise median (robust to any minority,
///   valid for every `n >= 1`), with a note naming the bound that failed.
/// - ``skip``: merge nothing; the round keeps the global model (the outcome says why).
///
/// YAML (scenario, read by ``read(_:key:)``): `defense.degraded: median` or `skip`
/// (default `median`).
public enum DegradedRoundPolicy: String, Sendable, Equatable, CaseIterable {
    /// Fall back to the coordinate-wise median of the updates that arrived.
    case median
    /// Skip the round.
    case skip

    /// The result of a possibly degraded round.
    public enum Outcome: Sendable, Equatable {
        /// The round was merged by the configured rule.
        case aggregated(AggregationResult)
        /// The round was too small for the rule and was merged by the fallback `rule` (the
        /// result's note and `reason` name the bound that failed).
        case fellBack(AggregationResult, rule: String, reason: String)
        /// The round was skipped; the reason names the rule and its bound.
        case skipped(reason: String)
    }

    /// Runs `rule`, or the fallback when `updates` are too few for it.
    /// - Parameters:
    ///   - rule: the configured rule.
    ///   - updates: what arrived.
    ///   - context: the round.
    ///   - rng: the round's generator.
    /// - Returns: the outcome.
    /// - Throws: ``AggregationError`` from the rule or the fallback for unusable input
    ///   (dimension mismatch, non-finite values), and `.tooFewUpdates` when nothing arrived
    ///   under ``median``.
    public func aggregate(
        with rule: any Aggregator, updates: [ClientUpdate], context: RoundContext,
        using rng: inout some RandomNumberGenerator
    ) throws(AggregationError) -> Outcome {
        try aggregate(with: rule, updates: try UpdateMatrix(updates, for: rule.name), context: context, using: &rng)
    }

    /// Runs `rule`, or the fallback when `updates` has too few rows of positive weight for it.
    /// - Parameters:
    ///   - rule: the configured rule.
    ///   - updates: what arrived, as one block (rows of weight 0 do not count).
    ///   - context: the round.
    ///   - rng: the round's generator.
    /// - Returns: the outcome.
    /// - Throws: as the `[ClientUpdate]` form.
    public func aggregate(
        with rule: any Aggregator, updates: UpdateMatrix, context: RoundContext,
        using rng: inout some RandomNumberGenerator
    ) throws(AggregationError) -> Outcome {
        do throws(AggregationError) {
            try rule.validate(inputCount: updates.activeCount)
        } catch {
            switch self {
            case .skip:
                return .skipped(reason: "round skipped: \(error.message)")
            case .median:
                let fallback = CoordinateMedian()
                var result = try fallback.aggregate(updates, context: context, using: &rng)
                let reason = "fell back to the coordinate-wise median of \(updates.activeCount) updates: \(error.message)"
                result.note = reason
                return .fellBack(result, rule: fallback.name, reason: reason)
            }
        }
        return .aggregated(try rule.aggregate(updates, context: context, using: &rng))
    }

    /// Reads the policy from `key` of `reader` (default ``median``).
    /// - Throws: ``ConfigError`` for a value other than `median` or `skip`, with a suggestion.
    public static func read(_ reader: ConfigReader, key: String = "degraded") throws(ConfigError) -> DegradedRoundPolicy {
        let name = try reader.string(key, default: DegradedRoundPolicy.median.rawValue, allowed: allCases.map(\.rawValue))
        return DegradedRoundPolicy(rawValue: name)!
    }
}
