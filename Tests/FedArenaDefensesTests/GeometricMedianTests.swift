import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import FedArenaTesting
import Testing

@Suite struct GeometricMedianTests {
    @Test func matchesByzFLStyleReference() throws {
        // numpy: z = 0; 3 times w = 1/max(ν, ‖X − z‖), z = Σ w x / Σ w (ν = 0.1).
        let rule = try GeometricMedian(nu: 0.1, iterations: 3, tolerance: 0, weighted: false, startFromZero: true)
        let result = try aggregate(rule, [[0, 0], [1, 0], [0, 1], [10, 10]])
        #expect(close(result.aggregate.values, [0.36912815, 0.36912815], 1e-5))
        #expect(abs(result.weights.values.reduce(0, +) - 1) < 1e-9)
    }

    @Test func convergesToTheOneDimensionalMedian() throws {
        let result = try aggregate(try GeometricMedian(iterations: 500, tolerance: 1e-9), [[0], [1], [10]])
        #expect(abs(result.aggregate.values[0] - 1) < 0.01)
    }

    @Test func sampleCountsWeightThePoints() throws {
        // With 3 samples at 0 and 1 at 1, the weighted geometric median is 0.
        let result = try aggregate(try GeometricMedian(iterations: 500, tolerance: 0), [[0], [1]], counts: [3, 1])
        #expect(abs(result.aggregate.values[0]) < 0.01)
    }

    @Test func invalidParameters() {
        #expect(throws: AggregationError.self) { try GeometricMedian(nu: 0) }
        #expect(throws: AggregationError.self) { try GeometricMedian(iterations: 0) }
        #expect(throws: AggregationError.self) { try GeometricMedian(tolerance: -1) }
    }

    @Test func conformance() throws {
        AggregatorConformance(try GeometricMedian(), inputCount: 9, robustTo: 3).verify()
        AggregatorConformance(try GeometricMedian(nu: 0.1, iterations: 3, tolerance: 0, startFromZero: true), inputCount: 9, robustTo: 2, identityTolerance: 1e-4).verify()
    }

    /// Trust weights multiply RFA's weights α_i: 0.5 on 10 samples is 5 samples at weight 1.
    @Test func trustWeightsMultiplyAlpha() throws {
        let rule = try GeometricMedian(nu: 1e-6, iterations: 5, tolerance: 0)
        let rows: [[Float]] = [[0, 0], [4, 0], [0, 3], [10, 10]]
        let weighted = try aggregate(rule, rows, counts: [10, 10, 10, 10], weights: [1, 0.5, 1, 1])
        #expect(weighted == (try aggregate(rule, rows, counts: [10, 5, 10, 10])))
        #expect(weighted != (try aggregate(rule, rows, counts: [10, 10, 10, 10])))
    }
}
