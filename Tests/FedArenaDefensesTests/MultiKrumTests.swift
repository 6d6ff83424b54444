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

    /// The issue's fixture: the m = n − f = 24 selected updates are the float64 selection.
    @Test(arguments: NearDuplicateRound.offsets)
    func nearDuplicateRoundGivesTheFloat64Selection(offset: Float) throws {
        let round = try #require(NearDuplicateRound.rounds[offset])
        let expected = Float64Reference.krum(round.distances, f: 6, m: 24)
        var rng = SeededGenerator(seed: 1)
        let result = try MultiKrum(f: 6).aggregate(round.updates, context: makeContext(dimension: 79_510), using: &rng)
        #expect(result.selected == expected.sorted().map(ClientID.init))
    }

    /// Ties at the m-th place, near-duplicates and n = 2f + 3 under a large offset.
    @Test(arguments: [Float(0), 1e3])
    func adversarialRoundsGiveTheFloat64Selection(offset: Float) throws {
        var rng = SeededGenerator(seed: 42)
        let f = 2
        var rows = (0..<(2 * f + 3)).map { _ in (0..<40).map { _ in offset + Float(rng.normal()) } }
        rows[6] = rows[0]
        rows[2] = rows[5]
        rows[2][3] = rows[2][3].nextDown
        let distances = Float64Reference.distances(rows)
        for m in 1...(rows.count - f) {
            let result = try aggregate(try MultiKrum(f: f, m: m), rows)
            #expect(result.selected == Float64Reference.krum(distances, f: f, m: m).sorted().map(ClientID.init), "m = \(m), offset \(offset)")
        }
    }

    /// Trust weights: the selection ignores weights in (0, 1); the mean of the selected is
    /// weighted by them. Line 0, 0.1, 0.2, 5, 9, 100 with f = 1 (k = 3): scores 25.05, 24.03,
    /// 23.09, 63.05, ...; m = 2 selects clients 2 and 1. With weights 1 (client 2) and 0.5
    /// (client 1): (0.5 · 0.1 + 1 · 0.2) / 1.5 = 1/6, weights 1/3 and 2/3.
    @Test func fractionalWeightsWeightTheMeanOfTheSelection() throws {
        let rows: [[Float]] = [[0], [0.1], [0.2], [5], [9], [100]]
        let result = try aggregate(try MultiKrum(f: 1, m: 2), rows, weights: [1, 0.5, 1, 1, 0.9, 1])
        #expect(result.selected == [ClientID(1), ClientID(2)])
        #expect(abs(result.aggregate.values[0] - 1.0 / 6) < 1e-7)
        #expect(abs(weight(result, 1) - 1.0 / 3) < 1e-12 && abs(weight(result, 2) - 2.0 / 3) < 1e-12)
    }
}
