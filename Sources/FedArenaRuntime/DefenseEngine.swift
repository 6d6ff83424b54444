import FedArenaCore
import FedArenaDefenses
import Logging

/// The coordinator's aggregation step: the scenario's rule, and the fallback for rounds that
/// dropouts left with too few updates for the rule's bound.
///
/// Fallback policy (documented in the README): when a round's update count violates the
/// rule's bound (Krum's `n > 2f + 2`, ...), the round is recorded as *degraded* and merged with
/// the coordinate-wise median of the updates that arrived; with no update at all the model is
/// left unchanged. An aggregation error on client input (which validation should have caught)
/// also leaves the model unchanged, recorded with its reason: the coordinator never crashes
/// on a round.
struct DefenseEngine: Sendable {
    struct Merged {
        var result: AggregationResult?
        var ruleUsed: String
        var degradedReason: String?
    }

    let aggregator: any Aggregator
    let fallback: (any Aggregator)?

    init(config: ScenarioConfig) throws(RuntimeError) {
        do {
            aggregator = try AggregatorRegistry.standard.make(config.defense.aggregator)
            fallback = try? AggregatorRegistry.standard.make(ComponentSpec(kind: "median", keyPath: "fallback"))
        } catch {
            throw RuntimeError(.configuration, "cannot build the aggregation rule: \(error)", cause: error)
        }
    }

    var name: String { aggregator.name }
    var requiresReferenceUpdate: Bool { aggregator.requiresReferenceUpdate }

    func aggregate(_ updates: [ClientUpdate], context: RoundContext, using generator: inout some RandomNumberGenerator, logger: Logger) -> Merged {
        var rule = aggregator
        var degraded: String?
        do throws(AggregationError) {
            try aggregator.validate(inputCount: updates.count)
        } catch {
            guard let fallback, updates.count > 0 else {
                let reason = "\(error.message); the model is unchanged"
                logger.warning("round \(context.round) degraded: \(reason)")
                return Merged(result: nil, ruleUsed: aggregator.name, degradedReason: reason)
            }
            degraded = "\(error.message); merged with the coordinate-wise median instead"
            logger.warning("round \(context.round) degraded: \(error.message)")
            rule = fallback
        }
        do throws(AggregationError) {
            let result = try rule.aggregate(updates, context: context, using: &generator)
            guard result.aggregate.isFinite, result.aggregate.count == context.globalModel.count else {
                let reason = "\(rule.name) produced a non-finite or mis-sized aggregate; the model is unchanged"
                logger.error("round \(context.round): \(reason)")
                return Merged(result: nil, ruleUsed: rule.name, degradedReason: reason)
            }
            return Merged(result: result, ruleUsed: rule.name, degradedReason: degraded)
        } catch {
            let reason = "\(rule.name) failed: \(error); the model is unchanged"
            logger.error("round \(context.round): \(reason)")
            return Merged(result: nil, ruleUsed: rule.name, degradedReason: reason)
        }
    }
}

/// Checks of a scenario that need the plug-in registries: run before any process starts.
public enum Preflight {
    /// Builds the aggregation rule and checks its bounds against `clients.per_round`, and the
    /// model against the data.
    /// - Returns: `.failure` with the key path and the reason when the scenario cannot run.
    public static func check(_ config: ScenarioConfig) -> Result<Void, ConfigError> {
        do throws(ConfigError) {
            try AggregatorRegistry.standard.validate(config.defense.aggregator, inputCount: config.clients.perRound)
            return .success(())
        } catch {
            return .failure(error)
        }
    }
}
