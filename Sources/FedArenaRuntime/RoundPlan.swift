import FedArenaCore
import FedArenaNumerics

/// The deterministic parts of a run's schedule: which process hosts which client, which
/// clients train in which round, and the seed of every random stream.
///
/// Coordinator and clients compute these independently from the scenario, so they agree
/// without exchanging them, and no value depends on process count or arrival order.
public struct RoundPlan: Sendable {
    /// Stream tags, so that different purposes never share a random sequence.
    public enum Stream: UInt64, Sendable {
        case initialModel = 1
        case partition = 2
        case clientSelection = 3
        case localTraining = 4
        case aggregation = 5
        case rootTraining = 6
        case attack = 7
        case sketch = 8
        case detection = 9
        /// The training audit's challenges (mixed with the commitment's root).
        case trainingAudit = 10
    }

    /// The scenario seed.
    public let seed: UInt64
    /// Logical clients.
    public let clientCount: Int
    /// Clients per round.
    public let perRound: Int
    /// Client processes.
    public let processCount: Int

    /// Creates the plan of a scenario.
    public init(config: ScenarioConfig) {
        seed = config.seed
        clientCount = config.clients.count
        perRound = config.clients.perRound
        processCount = config.clients.processes
    }

    /// The clients a process hosts when it was not given an explicit list: round-robin.
    public func clients(ofProcess index: Int) -> [ClientID] {
        stride(from: index, to: clientCount, by: processCount).map(ClientID.init)
    }

    /// The clients selected in `round` (all of them when `perRound == clientCount`), ascending.
    public func selectedClients(round: Int) -> [ClientID] {
        if perRound >= clientCount { return (0..<clientCount).map(ClientID.init) }
        var generator = SeededGenerator(seed: seed, stream: [Stream.clientSelection.rawValue, UInt64(round)])
        return generator.sample(perRound, from: clientCount).map(ClientID.init)
    }

    /// The seed sent with TRAIN for `round` (for client-side randomness such as sketches).
    public func roundSeed(_ round: Int) -> UInt64 {
        var generator = SeededGenerator(seed: seed, stream: [Stream.localTraining.rawValue, UInt64(round)])
        return generator.next()
    }

    /// The generator that orders `client`'s mini-batches in `epoch` of `round`.
    public func trainingGenerator(client: ClientID, round: Int, epoch: Int) -> SeededGenerator {
        SeededGenerator(seed: seed, stream: [Stream.localTraining.rawValue, UInt64(round), UInt64(client.rawValue), UInt64(epoch)])
    }

    /// The generator the aggregation rule of `round` receives.
    public func aggregationGenerator(round: Int) -> SeededGenerator {
        SeededGenerator(seed: seed, stream: [Stream.aggregation.rawValue, UInt64(round)])
    }

    /// The generator of the coordinator's root-set training in `round` and `epoch`.
    public func rootTrainingGenerator(round: Int, epoch: Int) -> SeededGenerator {
        SeededGenerator(seed: seed, stream: [Stream.rootTraining.rawValue, UInt64(round), UInt64(epoch)])
    }

    /// The generator of the initial global model.
    public var initialModelGenerator: SeededGenerator {
        SeededGenerator(seed: seed, stream: [Stream.initialModel.rawValue])
    }
}
