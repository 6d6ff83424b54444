import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import FedArenaTesting
import Testing

@Suite struct KrumTests {
    // Squared distances on a line; with f = 1, n = 5, each score sums the 2 nearest:
    // 0 -> 1 + 4 = 5, 1 -> 1 + 1 = 2, 2 -> 1 + 1 = 2, 3 -> 1 + 4 = 5, 100 -> huge.
    let line: [[Float]] = [[0], [1], [2], [3], [100]]

    @Test func picksTheLowestScoreAndBreaksTiesByClient() throws {
        let result = try aggregate(try Krum(f: 1), line)
        #expect(result.aggregate.values == [1])
        #expect(weight(result, 1) == 1 && weight(result, 2) == 0 && result.selected == [ClientID(1)])
    }

    @Test func rejectsTooSmallRoundsNamingTheBound() {
        do throws(AggregationError) {
            try Krum(f: 1).validate(inputCount: 4)
            Issue.record("expected a bound error")
        } catch {
            #expect(error.code == .tooFewUpdates)
            #expect(error.message == "krum needs n > 2f + 2, got n = 4, f = 1 (2f + 2 = 4)")
        }
        #expect(throws: AggregationError.self) { try aggregate(try Krum(f: 1), [[0], [1], [2], [3]]) }
    }

    @Test func negativeFIsInvalid() {
        #expect(throws: AggregationError.self) { try Krum(f: -1) }
    }

    @Test(arguments: [0, 1, 2])
    func conformance(f: Int) throws {
        AggregatorConformance(try Krum(f: f), inputCount: 2 * f + 5, robustTo: f).verify()
    }
}
