import FedArenaCore
import FedArenaRuntime
import Testing

@Suite struct RoundPlanTests {
    func plan(count: Int, perRound: Int, processes: Int, seed: UInt64 = 5) -> RoundPlan {
        RoundPlan(config: ScenarioConfig(
            name: "p", seed: seed, dataset: DatasetConfig(), model: .softmax, training: TrainingConfig(rounds: 1),
            clients: ClientsConfig(count: count, perRound: perRound, processes: processes),
            defense: DefenseConfig(), transport: TransportConfig(), output: OutputConfig()))
    }

    @Test func processesHostDisjointRoundRobinShares() {
        let plan = plan(count: 10, perRound: 10, processes: 4)
        let shares = (0..<4).map { plan.clients(ofProcess: $0).map(\.rawValue) }
        #expect(shares == [[0, 4, 8], [1, 5, 9], [2, 6], [3, 7]])
    }

    @Test func selectionIsSeededSortedAndOfTheRightSize() {
        let plan = plan(count: 50, perRound: 10, processes: 5)
        let first = plan.selectedClients(round: 1)
        #expect(first.count == 10)
        #expect(first == first.sorted())
        #expect(Set(first).count == 10)
        #expect(first.map(\.rawValue) == plan.selectedClients(round: 1).map(\.rawValue))
        #expect(first.map(\.rawValue) != plan.selectedClients(round: 2).map(\.rawValue))
        #expect(first.map(\.rawValue) != self.plan(count: 50, perRound: 10, processes: 5, seed: 6).selectedClients(round: 1).map(\.rawValue))
        #expect(self.plan(count: 8, perRound: 8, processes: 2).selectedClients(round: 3).map(\.rawValue) == Array(0..<8))
    }

    @Test func streamsDoNotDependOnTheProcessLayout() {
        var a = plan(count: 10, perRound: 10, processes: 2).trainingGenerator(client: ClientID(3), round: 4, epoch: 0)
        var b = plan(count: 10, perRound: 10, processes: 5).trainingGenerator(client: ClientID(3), round: 4, epoch: 0)
        #expect((a.next() as UInt64) == (b.next() as UInt64))
        var c = plan(count: 10, perRound: 10, processes: 2).trainingGenerator(client: ClientID(4), round: 4, epoch: 0)
        var d = plan(count: 10, perRound: 10, processes: 2).trainingGenerator(client: ClientID(3), round: 4, epoch: 0)
        #expect((c.next() as UInt64) != (d.next() as UInt64))
    }
}
