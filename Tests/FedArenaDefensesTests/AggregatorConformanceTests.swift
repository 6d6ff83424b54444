import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import FedArenaTesting
import Testing

/// The verifier must catch broken rules, not just pass good ones.
@Suite struct AggregatorConformanceTests {
    /// Returns the first update in arrival order: not permutation invariant, not robust, and
    /// does not check its input.
    struct FirstUpdate: Aggregator {
        var name: String { "first" }
        func aggregate(_ updates: [ClientUpdate], context: RoundContext, using rng: inout some RandomNumberGenerator) throws(AggregationError) -> AggregationResult {
            guard let first = updates.first else { throw AggregationError(.tooFewUpdates, "first needs 1 update") }
            return AggregationResult(aggregate: first.delta, weights: [first.client: 1])
        }
    }

    /// Claims to need 3 updates but aggregates 2 without complaint.
    struct WrongBound: Aggregator {
        var name: String { "wrong-bound" }
        func validate(inputCount: Int) throws(AggregationError) {
            if inputCount < 3 { throw AggregationError(.tooFewUpdates, "wrong-bound needs 3") }
        }
        func aggregate(_ updates: [ClientUpdate], context: RoundContext, using rng: inout some RandomNumberGenerator) throws(AggregationError) -> AggregationResult {
            try FedAvg().aggregate(updates, context: context, using: &rng)
        }
    }

    @Test func catchesOrderDependence() {
        withKnownIssue { AggregatorConformance(FirstUpdate(), inputCount: 5).verifyPermutationInvariance() }
    }

    @Test func catchesMissingInputChecks() {
        withKnownIssue { AggregatorConformance(FirstUpdate(), inputCount: 5).verifyTypedErrors() }
    }

    @Test func catchesFalseRobustnessClaims() {
        withKnownIssue { AggregatorConformance(FedAvg(), inputCount: 9, robustTo: 2).verifyBoundedUnderOutliers() }
    }

    @Test func catchesInconsistentBounds() {
        withKnownIssue { AggregatorConformance(WrongBound(), inputCount: 4).verifyBoundsAgree() }
    }

    @Test func passesIdentityForAGoodRule() {
        AggregatorConformance(CoordinateMedian(), inputCount: 4).verifyIdenticalInputs()
    }
}
