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
}
