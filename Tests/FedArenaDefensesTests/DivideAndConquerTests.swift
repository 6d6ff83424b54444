import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import FedArenaTesting
import Testing

@Suite struct DivideAndConquerTests {
    @Test func removesTheOutlierAlongTheTopDirection() throws {
        let rows: [[Float]] = [[1, 1], [1.1, 0.9], [0.9, 1.1], [1, 1.05], [10, -10]]
        let result = try aggregate(try DivideAndConquer(f: 1), rows)
        #expect(weight(result, 4) == 0)
        #expect(close(result.aggregate.values, [1, 1.0125]))
        #expect(abs(weight(result, 0) - 0.25) < 1e-12)
    }

    @Test func filterFractionScalesTheRemovals() throws {
        let rule = try DivideAndConquer(f: 2, filterFraction: 1.5)
        #expect(rule.removedPerIteration == 3)
        do throws(AggregationError) {
            try rule.validate(inputCount: 3)
            Issue.record("expected a bound error")
        } catch {
            #expect(error.message.contains("n = 3") && error.message.contains("= 3)"))
        }
    }

    @Test func subsamplingIsSeeded() throws {
        var rng = SeededGenerator(seed: 11)
        let rows = (0..<8).map { _ in (0..<40).map { _ in Float(rng.normal()) } }
        let rule = try DivideAndConquer(f: 2, iterations: 3, subsample: 10)
        #expect(try aggregate(rule, rows, seed: 5) == aggregate(rule, rows, seed: 5))
    }

    @Test func invalidParameters() {
        #expect(throws: AggregationError.self) { try DivideAndConquer(f: -1) }
        #expect(throws: AggregationError.self) { try DivideAndConquer(f: 1, filterFraction: 0) }
        #expect(throws: AggregationError.self) { try DivideAndConquer(f: 1, iterations: 0) }
        #expect(throws: AggregationError.self) { try DivideAndConquer(f: 1, subsample: 0) }
    }

    @Test func conformance() throws {
        AggregatorConformance(try DivideAndConquer(f: 2), inputCount: 9, robustTo: 2).verify()
        AggregatorConformance(try DivideAndConquer(f: 1, iterations: 2, subsample: 3), inputCount: 7, robustTo: 1).verify()
    }
}
