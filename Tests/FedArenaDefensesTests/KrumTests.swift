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

    /// The issue's fixture (30 updates, d = 79,510, offsets 0.5, 5 and 50, a tighter cluster of
    /// 6): Krum picks the float64-exact Krum choice. A float32 Gram matrix ‖a‖² + ‖b‖² − 2a·b
    /// picks another update at offset 5.
    @Test(arguments: NearDuplicateRound.offsets)
    func nearDuplicateRoundGivesTheFloat64Choice(offset: Float) throws {
        let round = try #require(NearDuplicateRound.rounds[offset])
        let expected = Float64Reference.krum(round.distances, f: 6)
        #expect(NearDuplicateRound.clusterClients.contains(expected[0]))
        var rng = SeededGenerator(seed: 1)
        let result = try Krum(f: 6).aggregate(round.updates, context: makeContext(dimension: 79_510), using: &rng)
        #expect(result.selected == expected.map(ClientID.init))
        #expect(result.aggregate.values == round.rows[expected[0]])
    }

    /// Adversarial numerics: a common offset, exact ties, near-duplicates and n at the bound
    /// (n = 2f + 3), each against the float64 reference.
    @Test(arguments: [Float(0), 1e3])
    func adversarialRoundsGiveTheFloat64Choice(offset: Float) throws {
        var rng = SeededGenerator(seed: 41)
        let f = 2
        var rows = (0..<(2 * f + 3)).map { _ in (0..<40).map { _ in offset + Float(rng.normal()) } }
        rows[4] = rows[1]  // an exact tie
        rows[5] = rows[3]
        rows[5][0] = rows[5][0].nextUp  // a near-duplicate
        let expected = Float64Reference.krum(Float64Reference.distances(rows), f: f)
        let result = try aggregate(try Krum(f: f), rows)
        #expect(result.selected == expected.map(ClientID.init), "offset \(offset)")
    }

    /// Trust weights: 0 excludes; a weight in (0, 1) counts as 1 (the same update, unscaled).
    @Test func weightZeroExcludesAndFractionalWeightsCountAsOne() throws {
        let full = try aggregate(try Krum(f: 1), line)
        let halved = try aggregate(try Krum(f: 1), line, weights: [0.5, 0.25, 0.5, 0.9, 1])
        #expect(halved == full)
        // Without client 1 the round is 0, 2, 3, 100 plus a far point: client 2 wins.
        let excluded = try aggregate(try Krum(f: 1), line + [[-100]], weights: [1, 0, 1, 1, 1, 1])
        #expect(excluded.selected == [ClientID(2)] && weight(excluded, 1) == 0)
        #expect(throws: AggregationError.self) { try aggregate(try Krum(f: 1), line, weights: [1, 0, 1, 1, 1]) }  // 4 active < 2f + 3
    }
}
