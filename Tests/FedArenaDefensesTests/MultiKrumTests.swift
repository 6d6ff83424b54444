import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import FedArenaTesting
import Testing

@Suite struct MultiKrumTests {
    let line: [[Float]] = [[0], [1], [2], [3], [100]]

    @Test func averagesTheMBestScores() throws {
        let result = try aggregate(try MultiKrum(f: 1, m: 2), line)
        #expect(result.aggregate.values == [1.5])
        #expect(weight(result, 1) == 0.5 && weight(result, 2) == 0.5 && weight(result, 4) == 0)
    }

    @Test func mDefaultsToNMinusF() throws {
        let result = try aggregate(try MultiKrum(f: 1), line)
        #expect(result.aggregate.values == [1.5])
        #expect(result.selected == [0, 1, 2, 3].map(ClientID.init))
    }

    @Test func boundsAreChecked() {
        #expect(throws: AggregationError.self) { try MultiKrum(f: 1, m: 0) }
        do throws(AggregationError) {
            try MultiKrum(f: 1, m: 5).validate(inputCount: 5)
            Issue.record("expected a bound error")
        } catch {
            #expect(error.message.contains("m <= n - f") && error.message.contains("m = 5"))
        }
        #expect(throws: AggregationError.self) { try MultiKrum(f: 2).validate(inputCount: 6) }
    }

    @Test(arguments: [1, 2])
    func conformance(f: Int) throws {
        AggregatorConformance(try MultiKrum(f: f), inputCount: 2 * f + 5, robustTo: f).verify()
        AggregatorConformance(try MultiKrum(f: f, m: 2), inputCount: 2 * f + 5, robustTo: f).verify()
    }
}
