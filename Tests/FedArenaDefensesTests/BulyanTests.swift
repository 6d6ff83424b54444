import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import FedArenaTesting
import Testing

@Suite struct BulyanTests {
    @Test func matchesTheReferenceImplementation() throws {
        // numpy reference (repeated Krum on the remaining set, then the β values closest to
        // the median): selects clients 0...4 (θ = 5), β = 3, result [2, 0.5].
        let rows: [[Float]] = [[0, 0], [1, 2], [2, 1], [3, 3], [4, 0.5], [5, 5], [100, -100]]
        let result = try aggregate(try Bulyan(f: 1), rows)
        #expect(close(result.aggregate.values, [2, 0.5]))
        #expect(result.selected == [0, 1, 2, 3, 4].map(ClientID.init))
        #expect(weight(result, 5) == 0 && weight(result, 6) == 0)
        let total = result.weights.values.reduce(0, +)
        #expect(abs(total - 3) < 1e-9)  // β kept values per coordinate
    }

    @Test func needsFourFPlusThree() {
        do throws(AggregationError) {
            try Bulyan(f: 2).validate(inputCount: 10)
            Issue.record("expected a bound error")
        } catch {
            #expect(error.message == "bulyan needs n >= 4f + 3, got n = 10, f = 2 (4f + 3 = 11)")
        }
        #expect(throws: Never.self) { try Bulyan(f: 2).validate(inputCount: 11) }
    }

    @Test(arguments: [(0, 3), (1, 7), (2, 11)])
    func conformance(f: Int, n: Int) throws {
        AggregatorConformance(try Bulyan(f: f), inputCount: n, robustTo: f).verify()
    }
}
