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

    /// ⌊c·f⌋ is exact for the c written: c = 0.29, f = 100 removes 29.
    @Test func filterCountIsExact() throws {
        #expect(try DivideAndConquer(f: 100, filterFraction: 0.29).removedPerIteration == 29)
    }

    /// The columns are centred before the power iteration: a common offset moves the
    /// aggregate by the offset and changes no survivor.
    @Test func aCommonOffsetChangesNoSurvivor() throws {
        var rng = SeededGenerator(seed: 19)
        var rows = (0..<10).map { _ in (0..<50).map { _ in Float(rng.normal()) } }
        rows[3] = rows[3].map { $0 * 8 }
        let plain = try aggregate(try DivideAndConquer(f: 2), rows)
        let shifted = try aggregate(try DivideAndConquer(f: 2), rows.map { $0.map { $0 + 100 } })
        #expect(shifted.selected == plain.selected && weight(plain, 3) == 0)
        #expect(close(shifted.aggregate.values, plain.aggregate.values.map { $0 + 100 }, 1e-3))
    }

    /// Trust weights: the filtering ignores weights in (0, 1); the survivors' mean is weighted.
    @Test func trustWeightsWeightTheSurvivors() throws {
        let rows: [[Float]] = [[1, 1], [1.1, 0.9], [0.9, 1.1], [1, 1.05], [10, -10]]
        let weighted = try aggregate(try DivideAndConquer(f: 1), rows, weights: [1, 0.5, 1, 0.5, 1])
        #expect(weighted.selected == [0, 1, 2, 3].map(ClientID.init))
        #expect(abs(weight(weighted, 0) - 1.0 / 3) < 1e-12 && abs(weight(weighted, 1) - 1.0 / 6) < 1e-12)
        let expected: [Float] = [2.95 / 3, 3.075 / 3]  // (1 + 0.55 + 0.9 + 0.5) / 3, (1 + 0.45 + 1.1 + 0.525) / 3
        #expect(close(weighted.aggregate.values, expected))
    }
}
