import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import FedArenaTesting
import Testing

@Suite struct BulyanTests {
    @Test func matchesTheReferenceImplementation() throws {
        // Float64 reference, plain python (repeated Krum on the remaining set, then the β values
        // closest to the median):
        //   d = lambda a, b: sum((x - y) ** 2 for x, y in zip(a, b)); rem = list(range(n)); sel = []
        //   while len(sel) < theta:
        //       k = len(rem) - f - 2
        //       sc = {i: sum(sorted(d(rows[i], rows[j]) for j in rem if j != i)[:k]) for i in rem}
        //       w = min(rem, key=lambda i: (sc[i], i)); sel.append(w); rem.remove(w)
        // selects clients 0...4 (θ = 5), β = 3. Coordinate 0: 0, 1, 2, 3, 4 around 2 keeps 1, 2, 3 (mean 2);
        // coordinate 1: 0, 2.2, 1, 3, 0.5 around 1 keeps 1, 0.5, 0 (distances 0, 0.5, 1; the
        // next is 2.2 at 1.2, so no tie decides the value): mean 0.5.
        let rows: [[Float]] = [[0, 0], [1, 2.2], [2, 1], [3, 3], [4, 0.5], [5, 5], [100, -100]]
        let result = try aggregate(try Bulyan(f: 1), rows)
        #expect(close(result.aggregate.values, [2, 0.5]))
        #expect(result.selected == [0, 1, 2, 3, 4].map(ClientID.init))
        #expect(weight(result, 5) == 0 && weight(result, 6) == 0)
        let total = result.weights.values.reduce(0, +)
        #expect(abs(total - 3) < 1e-9)  // β kept values per coordinate
    }

    /// The tie rule, stated and tested: when two windows of β values are equally close to the
    /// median the lower one is kept. Coordinate 1 below is 0, 2, 1, 3, 0.5 around the median 1:
    /// after 1 and 0.5, the values 0 and 2 are both at distance 1; the lower window {0, 0.5, 1}
    /// gives 0.5 (the upper one, {0.5, 1, 2}, would give 7/6). Usage shares over the two
    /// coordinates: clients 0, 1, 3, 4 half, client 2 (used in both) 1.
    @Test func aTieAtTheWindowBoundaryKeepsTheLowerWindow() throws {
        let rows: [[Float]] = [[0, 0], [1, 2], [2, 1], [3, 3], [4, 0.5], [5, 5], [100, -100]]
        let result = try aggregate(try Bulyan(f: 1), rows)
        #expect(close(result.aggregate.values, [2, 0.5]))
        for (client, share) in [(0, 0.5), (1, 0.5), (2, 1.0), (3, 0.5), (4, 0.5)] {
            #expect(abs(weight(result, client) - share) < 1e-12, "client \(client)")
        }
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

    /// The issue's fixture: the θ = n − 2f = 18 updates of the first phase are the float64
    /// repeated-Krum selection.
    @Test(arguments: NearDuplicateRound.offsets)
    func nearDuplicateRoundGivesTheFloat64Selection(offset: Float) throws {
        let round = try #require(NearDuplicateRound.rounds[offset])
        let expected = Float64Reference.repeatedKrum(round.distances, f: 6, count: 18)
        var rng = SeededGenerator(seed: 1)
        let result = try Bulyan(f: 6).aggregate(round.updates, context: makeContext(dimension: 79_510), using: &rng)
        #expect(result.selected == expected.sorted().map(ClientID.init))
    }

    /// Ties, near-duplicates and n = 4f + 3 under a large offset.
    @Test(arguments: [Float(0), 1e3])
    func adversarialRoundsGiveTheFloat64Selection(offset: Float) throws {
        var rng = SeededGenerator(seed: 43)
        let f = 2
        var rows = (0..<(4 * f + 3)).map { _ in (0..<30).map { _ in offset + Float(rng.normal()) } }
        rows[7] = rows[2]
        rows[9] = rows[4]
        rows[9][1] = rows[9][1].nextUp
        let expected = Float64Reference.repeatedKrum(Float64Reference.distances(rows), f: f, count: rows.count - 2 * f)
        let result = try aggregate(try Bulyan(f: f), rows)
        #expect(result.selected == expected.sorted().map(ClientID.init), "offset \(offset)")
    }

    /// Trust weights: 0 excludes; a weight in (0, 1) counts as 1.
    @Test func fractionalWeightsCountAsOne() throws {
        let rows: [[Float]] = [[0, 0], [1, 2.2], [2, 1], [3, 3], [4, 0.5], [5, 5], [100, -100]]
        #expect(try aggregate(try Bulyan(f: 1), rows, weights: [0.5, 1, 0.1, 1, 0.7, 1, 1]) == (try aggregate(try Bulyan(f: 1), rows)))
    }
}
