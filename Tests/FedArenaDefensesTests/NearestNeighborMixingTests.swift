import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import FedArenaTesting
import Testing

@Suite struct NearestNeighborMixingTests {
    @Test func mixesWithTheNearestAndAttributesWeights() throws {
        // n = 3, f = 1: each update becomes the mean of itself and its nearest neighbour:
        // 0 -> (0 + 1)/2, 1 -> (1 + 0)/2, 10 -> (10 + 1)/2; then the plain mean.
        let rule = PreAggregatedRule(stages: [try NearestNeighborMixing(f: 1)], rule: FedAvg(weighted: false))
        let result = try aggregate(rule, [[0], [1], [10]])
        #expect(close(result.aggregate.values, [6.5 / 3]))
        #expect(abs(weight(result, 0) - 1.0 / 3) < 1e-12)
        #expect(abs(weight(result, 1) - 0.5) < 1e-12)
        #expect(abs(weight(result, 2) - 1.0 / 6) < 1e-12)
        #expect(rule.name == "nnm+fedavg")
    }

    @Test func stageOutputKeepsClients() throws {
        var rng = SeededGenerator(seed: 1)
        let output = try NearestNeighborMixing(f: 1).preAggregate(makeUpdates([[0], [1], [10]]), context: makeContext(dimension: 1), using: &rng)
        #expect(output.updates.updates.map(\.client) == [0, 1, 2].map(ClientID.init))
        #expect(output.updates.updates.map(\.delta.values) == [[0.5], [0.5], [5.5]])
        #expect(output.sources[ClientID(2)] == [ClientID(2): 0.5, ClientID(1): 0.5])
    }

    @Test func needsMoreUpdatesThanF() {
        #expect(throws: AggregationError.self) { try NearestNeighborMixing(f: 3).validate(inputCount: 3) }
        #expect(throws: AggregationError.self) { try NearestNeighborMixing(f: -1) }
    }

    @Test func conformanceInFrontOfKrum() throws {
        let rule = PreAggregatedRule(stages: [try NearestNeighborMixing(f: 2)], rule: try Krum(f: 2))
        AggregatorConformance(rule, inputCount: 9, robustTo: 2).verify()
    }

    /// The fixture: every neighbourhood of n − f = 24 is the float64 one.
    @Test(arguments: NearDuplicateRound.offsets)
    func nearDuplicateRoundGivesTheFloat64Neighbourhoods(offset: Float) throws {
        let round = try #require(NearDuplicateRound.rounds[offset])
        var rng = SeededGenerator(seed: 1)
        let output = try NearestNeighborMixing(f: 6).preAggregate(round.updates, context: makeContext(dimension: 79_510), using: &rng)
        for i in 0..<30 {
            let expected = Set(Float64Reference.nearest(round.distances, to: i, keep: 24).map(ClientID.init))
            #expect(Set(output.sources[ClientID(i)]?.keys.map { $0 } ?? []) == expected, "client \(i)")
        }
    }

    /// Ties at the boundary, near-duplicates and n = f + 1 under a large offset.
    @Test(arguments: [Float(0), 1e3], [1, 5])
    func adversarialRoundsGiveTheFloat64Neighbourhoods(offset: Float, f: Int) throws {
        var rng = SeededGenerator(seed: 44)
        var rows = (0..<6).map { _ in (0..<30).map { _ in offset + Float(rng.normal()) } }
        rows[3] = rows[1]
        rows[4] = rows[0]
        rows[4][2] = rows[4][2].nextUp
        let distances = Float64Reference.distances(rows)
        var generator = SeededGenerator(seed: 1)
        let output = try NearestNeighborMixing(f: f).preAggregate(makeUpdates(rows), context: makeContext(dimension: 30), using: &generator)
        for i in 0..<6 {
            let expected = Set(Float64Reference.nearest(distances, to: i, keep: 6 - f).map(ClientID.init))
            #expect(Set(output.sources[ClientID(i)]?.keys.map { $0 } ?? []) == expected, "client \(i), f = \(f), offset \(offset)")
        }
    }

    /// Trust weights: 0 excludes the update from every neighbourhood; each output carries its
    /// own client's weight.
    @Test func weightsAreCarriedAndZeroExcludes() throws {
        var rng = SeededGenerator(seed: 1)
        let output = try NearestNeighborMixing(f: 1).preAggregate(
            makeUpdates([[0], [1], [10], [0.5]], weights: [1, 0.5, 1, 0]), context: makeContext(dimension: 1), using: &rng)
        #expect(output.updates.clients == [0, 1, 2].map(ClientID.init))
        #expect(output.updates.weights == [1, 0.5, 1])
        #expect(output.updates.updates.map(\.delta.values) == [[0.5], [0.5], [5.5]])
    }
}
