import FedArenaCore
import FedArenaDefenses
import Logging

/// The coordinator's aggregation step: the scenario's rule, run through the scenario's
/// ``DegradedRoundPolicy`` for rounds that dropouts left with too few updates for the rule's
/// bound (`defense.degraded`: `median`, the default, or `skip`).
///
/// A round whose merge fails on client input that validation should have caught, or that
/// yields a non-finite aggregate, leaves the model unchanged and is recorded with the reason:
/// the coordinator never crashes on a round.
struct DefenseEngine: Sendable {
    struct Merged {
        var result: AggregationResult?
        var ruleUsed: String
        var degradedReason: String?
    }

    let aggregator: any Aggregator
    let policy: DegradedRoundPolicy

    init(config: ScenarioConfig) throws(RuntimeError) {
        do {
            aggregator = try AggregatorRegistry.standard.make(config.defense.aggregator)
        } catch {
            throw RuntimeError(.configuration, "cannot build the aggregation rule: \(error)", cause: error)
        }
        guard let policy = DegradedRoundPolicy(rawValue: config.defense.degraded) else {
            throw RuntimeError(.configuration, "defense.degraded: unknown policy \"\(config.defense.degraded)\"")
        }
        self.policy = policy
    }

    var name: String { aggregator.name }
    var requiresReferenceUpdate: Bool { aggregator.requiresReferenceUpdate }

    func aggregate(_ updates: UpdateMatrix, context: RoundContext, using generator: inout some RandomNumberGenerator, logger: Logger) -> Merged {
        let outcome: DegradedRoundPolicy.Outcome
        do throws(AggregationError) {
            outcome = try policy.aggregate(with: aggregator, updates: updates, context: context, using: &generator)
        } catch {
            let reason = "\(aggregator.name) failed: \(error); the model is unchanged"
            logger.error("round \(context.round): \(reason)")
            return Merged(result: nil, ruleUsed: aggregator.name, degradedReason: reason)
        }
        switch outcome {
        case .skipped(let reason):
            logger.warning("round \(context.round) degraded: \(reason)")
            return Merged(result: nil, ruleUsed: aggregator.name, degradedReason: reason)
        case .aggregated(let result):
            return checked(result, rule: aggregator.name, degraded: nil, context: context, logger: logger)
        case .fellBack(let result, let rule, let reason):
            logger.warning("round \(context.round) degraded: \(reason)")
            return checked(result, rule: rule, degraded: reason, context: context, logger: logger)
        }
    }

    private func checked(_ result: AggregationResult, rule: String, degraded: String?, context: RoundContext, logger: Logger) -> Merged {
        guard result.aggregate.count == context.globalModel.count, result.aggregate.isFinite else {
            let reason = "\(rule) produced a non-finite or mis-sized aggregate; the model is unchanged"
            logger.error("round \(context.round): \(reason)")
            return Merged(result: nil, ruleUsed: rule, degradedReason: reason)
        }
        return Merged(result: result, ruleUsed: rule, degradedReason: degraded)
    }
}

/// Checks of a scenario that need the plug-in registries: run before any process starts.
public enum Preflight {
    /// Builds the aggregation rule and checks its bounds against `clients.per_round`.
    /// - Returns: `.failure` with the key path and the reason when the scenario cannot run.
    public static func check(_ config: ScenarioConfig) -> Result<Void, ConfigError> {
        do throws(ConfigError) {
            try DataPreflight.check(config)
            let rule = try AggregatorRegistry.standard.validate(config.defense.aggregator, inputCount: config.clients.perRound)
            if rule.requiresReferenceUpdate, config.dataset.rootSamples == 0 {
                throw ConfigError(
                    .invalidValue, keyPath: "dataset.root_samples",
                    "\(rule.name) needs the coordinator's root set for its reference update: set dataset.root_samples (Cao et al. use 100)")
            }
            try AttackSetup.check(config)
            _ = try DetectionEngine(config: config)
            return .success(())
        } catch {
            return .failure(error)
        }
    }
}
