import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import FedArenaTesting
import Testing

/// The verifier must catch broken rules, not just pass good ones.
@Suite struct AggregatorConformanceTests {
    /// Returns the first row of the block: not robust, and does not check its input.
    struct FirstUpdate: Aggregator {
        var name: String { "first" }
        func aggregate(_ updates: UpdateMatrix, context: RoundContext, using rng: inout some RandomNumberGenerator) throws(AggregationError) -> AggregationResult {
            guard updates.count > 0 else { throw AggregationError(.tooFewUpdates, "first needs 1 update") }
            return AggregationResult(aggregate: updates.vector(0), weights: [updates.clients[0]: 1])
        }
    }

    /// Claims to need 3 updates but aggregates 2 without complaint.
    struct WrongBound: Aggregator {
        var name: String { "wrong-bound" }
        func validate(inputCount: Int) throws(AggregationError) {
            if inputCount < 3 { throw AggregationError(.tooFewUpdates, "wrong-bound needs 3") }
        }
        func aggregate(_ updates: UpdateMatrix, context: RoundContext, using rng: inout some RandomNumberGenerator) throws(AggregationError) -> AggregationResult {
            try FedAvg().aggregate(updates, context: context, using: &rng)
        }
    }

    /// Ignores trust weights: an update of weight 0 still counts.
    struct IgnoresWeights: Aggregator {
        var name: String { "ignores-weights" }
        func aggregate(_ updates: UpdateMatrix, context: RoundContext, using rng: inout some RandomNumberGenerator) throws(AggregationError) -> AggregationResult {
            var all = updates.updates
            for index in all.indices { all[index].weight = 1 }
            return try FedAvg().aggregate(all, context: context, using: &rng)
        }
    }

    /// Rounds arrive packed in client order: the first row is the lowest client whatever the
    /// arrival order, so even an order-sensitive rule passes the permutation check.
    @Test func roundsArriveInClientOrder() throws {
        let checker = AggregatorConformance(FirstUpdate(), inputCount: 5)
        let updates = checker.honestUpdates(count: 5)
        var rng = SeededGenerator(seed: 1)
        let result = try FirstUpdate().aggregate(Array(updates.reversed()), context: AggregatorConformance.defaultContext(updates, 6), using: &rng)
        #expect(result.aggregate == updates[0].delta && result.selected == [ClientID(0)])
        checker.verifyPermutationInvariance()
    }

    @Test func catchesMissingInputChecks() {
        withKnownIssue {
            AggregatorConformance(FirstUpdate(), inputCount: 5).verifyTypedErrors()
        } matching: { issue in
            issue.comments.contains { $0.rawValue.contains("should throw non-finite input, but aggregated") }
        }
    }

    @Test func catchesFalseRobustnessClaims() {
        withKnownIssue {
            AggregatorConformance(FedAvg(), inputCount: 9, robustTo: 2).verifyBoundedUnderOutliers()
        } matching: { issue in
            issue.comments.contains { $0.rawValue.contains("from the honest centre (allowed") }
        }
    }

    @Test func catchesInconsistentBounds() {
        withKnownIssue {
            AggregatorConformance(WrongBound(), inputCount: 4).verifyBoundsAgree()
        } matching: { issue in
            issue.comments.contains { $0.rawValue.contains("(validate rejects them) should throw too few updates, but aggregated") }
        }
    }

    @Test func catchesIgnoredWeights() {
        withKnownIssue {
            AggregatorConformance(IgnoresWeights(), inputCount: 5).verifyZeroWeightExcludes()
        } matching: { issue in
            issue.comments.contains { $0.rawValue.contains("ignores-weights: an update of weight 0") }
        }
    }

    @Test func passesIdentityForAGoodRule() {
        AggregatorConformance(CoordinateMedian(), inputCount: 4).verifyIdenticalInputs()
    }
}
