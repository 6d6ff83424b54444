import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import FedArenaTesting
import Testing

@Suite struct CenteredClippingTests {
    @Test func oneStepFromZero() throws {
        let result = try aggregate(try CenteredClipping(tau: 1, iterations: 1), [[3, 4], [0, 0]])
        #expect(close(result.aggregate.values, [0.3, 0.4]))
        #expect(abs(weight(result, 0) - 0.1) < 1e-9 && abs(weight(result, 1) - 0.5) < 1e-9)
    }

    @Test func startsFromThePreviousAggregate() throws {
        let context = makeContext(dimension: 2, previous: [1, 1])
        let result = try aggregate(try CenteredClipping(tau: 1, iterations: 1), [[3, 4], [0, 0]], context: context)
        #expect(close(result.aggregate.values, [0.92379671, 1.06247176]))
    }

    @Test func severalSteps() throws {
        let result = try aggregate(try CenteredClipping(tau: 2, iterations: 3), [[3, 4], [0, 0], [1, 1]])
        #expect(close(result.aggregate.values, [1.04424834, 1.2628638]))
    }

    @Test func previousAggregateOfAnotherDimensionIsRejected() {
        let context = makeContext(dimension: 3, previous: [1, 1, 1])
        #expect(throws: AggregationError.self) { try aggregate(try CenteredClipping(), [[1, 2]], context: context) }
    }

    @Test func invalidParameters() {
        #expect(throws: AggregationError.self) { try CenteredClipping(tau: 0) }
        #expect(throws: AggregationError.self) { try CenteredClipping(iterations: 0) }
    }

    @Test func conformance() throws {
        AggregatorConformance(try CenteredClipping(tau: 1, iterations: 10), inputCount: 9, robustTo: 2).verify()
        AggregatorConformance(try CenteredClipping(), inputCount: 4).verify()
    }

    /// Trust weights turn the mean of the clipped differences into a weighted mean: with τ
    /// large (no clipping) one step from zero is (1 · 1 + 0.5 · 4) / 1.5 = 2, weights 2/3, 1/3.
    @Test func trustWeightsWeightTheMean() throws {
        let result = try aggregate(try CenteredClipping(tau: 1e6, iterations: 1), [[1], [4]], weights: [1, 0.5])
        #expect(abs(result.aggregate.values[0] - 2) < 1e-6)
        #expect(abs(weight(result, 0) - 2.0 / 3) < 1e-12 && abs(weight(result, 1) - 1.0 / 3) < 1e-12)
    }
}
