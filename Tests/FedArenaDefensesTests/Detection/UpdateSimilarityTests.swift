import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import Testing

@Suite struct UpdateSimilarityTests {
    @Test func identicalSybilsScoreHighest() throws {
        // The sybils look honest (the shared direction plus the same noise draw): only their
        // mutual similarity gives them away.
        var rng = SeededGenerator(seed: 11)
        let (plain, direction) = honestRound(bad: [])
        let sybil = direction.map { $0 + Float(0.3 * rng.normal()) }
        let updates = plain + [8, 9].map { ClientUpdate(client: ClientID($0), round: 1, sampleCount: 10, delta: ParameterVector(sybil)) }
        let output = try run(try UpdateSimilarity(), updates, detectionContext(dimension: 50))
        #expect(Set(ranking(output).prefix(2)) == [8, 9])
        let s = try #require(output.suspicions[ClientID(8)])
        #expect(s.score >= 0.9)
        #expect(s.reason.contains("history cosine"))
        #expect(s.reason.contains("client 9"))
        #expect(output.suspicions[ClientID(0)]!.score < 0.5)
        #expect(output.memory?.vectors[UpdateSimilarity.historyKey(ClientID(8))] == ParameterVector(sybil))
    }

    @Test func signFlippedUpdatesDisagreeWithTheMedian() throws {
        var (updates, direction) = honestRound(bad: [])
        let flipped = updates.prefix(2).enumerated().map { index, update in
            ClientUpdate(client: ClientID(8 + index), round: 1, sampleCount: 10, delta: ParameterVector(update.delta.values.map { -$0 }))
        }
        updates += flipped
        _ = direction
        let output = try run(try UpdateSimilarity(), updates, detectionContext(dimension: 50))
        #expect(Set(ranking(output).prefix(2)) == [8, 9])
        let s = try #require(output.suspicions[ClientID(9)])
        #expect(s.score > 0.9)
        #expect(s.reason.contains("median update"))
        #expect(s.features["median_cosine"]! < -0.5)
    }

    @Test func aClientTurningAgainstItsOwnHistoryIsFlagged() throws {
        let detector = try UpdateSimilarity()
        let (first, _) = honestRound(bad: [], seed: 3)
        let one = try run(detector, first, detectionContext(dimension: 50))
        // Round 2: same honest directions; client 0 reverses its own history and drifts orthogonal.
        var (second, direction) = honestRound(bad: [], seed: 3, round: 2)
        second[0].delta = ParameterVector(direction.enumerated().map { $0.offset % 2 == 0 ? -$0.element : 0.2 * $0.element })
        let two = try run(detector, second, detectionContext(dimension: 50, round: 2, memory: try #require(one.memory)))
        #expect(ranking(two).first == 0)
        #expect(two.suspicions[ClientID(0)]!.features["self_cosine"]! < 0)
        #expect(two.suspicions[ClientID(3)]!.features["self_cosine"]! > 0.9)
    }
}
