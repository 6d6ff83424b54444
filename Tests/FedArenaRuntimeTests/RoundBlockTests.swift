@testable import FedArenaRuntime
import FedArenaCore
import Testing

/// The coordinator's round block: rows written in arrival order come out packed in client order.
struct RoundBlockTests {
    private func update(_ client: Int, _ values: [Float], samples: Int, loss: Double) -> ClientUpdate {
        ClientUpdate(client: ClientID(client), round: 4, sampleCount: samples, delta: ParameterVector(values), trainLoss: loss)
    }

    @Test func rowsArrivingOutOfOrderWithAGapArePackedInClientOrder() {
        var block = RoundBlock(round: 4, selected: [5, 2, 9, 7].map(ClientID.init), dimension: 3)
        block.store(update(9, [9, 9.5, 10], samples: 3, loss: 0.9))
        block.store(update(2, [2, 2.5, 3], samples: 1, loss: 0.2))
        block.store(update(7, [7, 7.5, 8], samples: 2, loss: .nan))
        #expect(block.count == 3 && block.contains(ClientID(7)) && !block.contains(ClientID(5)))
        #expect(block.hasRow(for: ClientID(5)) && !block.hasRow(for: ClientID(3)))
        #expect(block.trainLoss(of: ClientID(9)) == 0.9)

        let taken = block.take()
        // Client 5 never answered: rows 2, 7, 9, in that order, and nothing of row 5.
        #expect(taken.matrix.values == [2, 2.5, 3, 7, 7.5, 8, 9, 9.5, 10])
        #expect(taken.clients == [2, 7, 9].map(ClientID.init))
        #expect(taken.matrix.sampleCounts == [1, 2, 3])
        #expect(taken.matrix.weights == [1, 1, 1])
        #expect(taken.matrix.round == 4 && taken.matrix.dimension == 3)
        #expect(taken.details.map(\.trainLoss)[0] == 0.2 && taken.details[1].trainLoss.isNaN)
        #expect(block.count == 0 && !block.contains(ClientID(9)))
    }

    @Test func theBlockIsWhatPackingTheUpdatesWouldHaveMade() throws {
        let updates = [update(3, [1, -1], samples: 4, loss: 0.1), update(1, [0.5, 2], samples: 6, loss: 0.3)]
        var block = RoundBlock(round: 4, selected: [1, 3].map(ClientID.init), dimension: 2)
        for update in updates { block.store(update) }
        let packed = try RoundUpdates(updates)
        #expect(block.take().matrix == packed.matrix)
        #expect(packed.matrix.values == [0.5, 2, 1, -1])
    }
}
