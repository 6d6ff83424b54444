import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import FedArenaTesting
import Testing

@Suite struct FoolsGoldTests {
    @Test func sybilsGetNoWeight() throws {
        // Two identical sybils (cos 1) and one honest client (cos 0 with both): pardoning
        // leaves the honest client at α = 1 → 0.99 → logit > 1 → 1; sybils at α = 0.
        let result = try aggregate(try FoolsGold(), [[1, 0], [1, 0], [0, 1]])
        #expect(result.aggregate.values == [0, 1])
        #expect(weight(result, 0) == 0 && weight(result, 1) == 0 && weight(result, 2) == 1)
        #expect(result.memory?.vectors[FoolsGold.historyKey(ClientID(2))] == ParameterVector([0, 1]))
    }

    @Test func historyAccumulatesAcrossRounds() throws {
        let rule = try FoolsGold()
        let first = try aggregate(rule, [[1, 0], [0, 1], [1, 1]])
        let memory = try #require(first.memory)
        let second = try aggregate(rule, [[1, 0], [0, 1], [1, 1]], context: makeContext(dimension: 2, memory: memory))
        #expect(second.memory?.vectors[FoolsGold.historyKey(ClientID(2))] == ParameterVector([2, 2]))
        #expect(second.memory?.vectors[FoolsGold.historyKey(ClientID(0))] == ParameterVector([2, 0]))
    }

    @Test func distinctDirectionsKeepTheirWeight() throws {
        // Orthogonal histories: every cs = 0, α = 1 → 0.99 → logit clipped to 1: the plain mean.
        let result = try aggregate(try FoolsGold(), [[1, 0, 0], [0, 2, 0], [0, 0, 3]])
        #expect(close(result.aggregate.values, [1.0 / 3, 2.0 / 3, 1]))
    }

    @Test func allAlikeGivesZeroWithANote() throws {
        let result = try aggregate(try FoolsGold(), [[1, 1], [2, 2]])
        #expect(result.aggregate.values == [0, 0])
        #expect(result.note != nil)
    }

    @Test func storedHistoryOfAnotherDimensionIsRejected() {
        let memory = AggregatorMemory(vectors: [FoolsGold.historyKey(ClientID(0)): ParameterVector([1, 2, 3])])
        #expect(throws: AggregationError.self) { try aggregate(try FoolsGold(), [[1, 0], [0, 1]], context: makeContext(dimension: 2, memory: memory)) }
    }

    @Test func conformance() throws {
        // Identical updates are perfect sybils: FoolsGold returns zero for them, by design.
        AggregatorConformance(try FoolsGold(), inputCount: 6, expectsIdentity: false).verify()
    }

    /// Trust weights multiply the learning rates α_i (then normalised).
    @Test func trustWeightsMultiplyTheLearningRates() throws {
        let rows: [[Float]] = [[1, 0, 0], [0.9, 0.3, 0], [0, 1, 0.2], [0.1, 0.2, 1]]
        let plain = try aggregate(try FoolsGold(), rows)
        let trust = [1, 0.5, 0.25, 1.0]
        let weighted = try aggregate(try FoolsGold(), rows, weights: trust)
        let products = (0..<4).map { weight(plain, $0) * trust[$0] }
        let total = products.reduce(0, +)
        for i in 0..<4 { #expect(abs(weight(weighted, i) - products[i] / total) < 1e-12, "client \(i)") }
    }

    /// Sybils among updates that share a large component: the cosines come from the
    /// offset-free distances, so the two identical updates are still found and the others keep
    /// their weight.
    @Test func sybilsAreFoundUnderALargeCommonOffset() throws {
        var rng = SeededGenerator(seed: 17)
        var rows = (0..<5).map { _ in (0..<500).map { _ in 20 + Float(0.01 * rng.normal()) } }
        rows[4] = rows[3]
        let result = try aggregate(try FoolsGold(), rows)
        #expect(weight(result, 3) == 0 && weight(result, 4) == 0)
        #expect((0..<3).allSatisfy { weight(result, $0) > 0 })
    }
}
