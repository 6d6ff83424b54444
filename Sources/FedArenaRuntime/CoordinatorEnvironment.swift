import FedArenaCore
import FedArenaDefenses
import FedArenaReports
import Logging

/// What a coordinator needs besides its transport: the scenario, the data it holds (test set,
/// root set), and where per-round records go.
public struct CoordinatorEnvironment: Sendable {
    /// The validated scenario.
    public var config: ScenarioConfig
    /// The 10k (or subset) test set.
    public var testSet: LabeledSamples
    /// The coordinator's root set (may be empty).
    public var rootSet: LabeledSamples
    /// Called after every round, in order (metrics sink and progress output). A thrown error
    /// (a record that cannot be written) stops the run with that error.
    public var onRound: @Sendable (RoundMetrics) throws(RuntimeError) -> Void
    /// Logger for decisions and rejections.
    public var logger: Logger
    /// Called with each round's accepted updates (one row per client, ascending) before they
    /// are merged, when the scenario asks to record them (`output.record_updates`).
    public var onUpdates: (@Sendable (Int, UpdateMatrix) throws(RuntimeError) -> Void)?
    /// Called after every round's record with the coordinator's state (ledger head, wall time
    /// and scenario hash left for the caller to fill in), to write `checkpoint.json`. A thrown
    /// error stops the run.
    public var onCheckpoint: (@Sendable (Checkpoint) throws(RuntimeError) -> Void)?
    /// A connection to the adversary process, for attacks with omniscient knowledge (a
    /// simulation-only switch: the coordinator shares benign updates with the attacker).
    public var adversaryLink: (any ClientTransport)?

    /// Creates an environment.
    public init(
        config: ScenarioConfig, testSet: LabeledSamples, rootSet: LabeledSamples, logger: Logger,
        onRound: @escaping @Sendable (RoundMetrics) throws(RuntimeError) -> Void = { _ in }
    ) {
        self.config = config
        self.testSet = testSet
        self.rootSet = rootSet
        self.logger = logger
        self.onRound = onRound
    }
}

/// The outcome of a coordinator run.
public struct RunResult: Sendable {
    /// Every round's record.
    public var rounds: [RoundMetrics]
    /// The final global model.
    public var finalModel: ParameterVector
    /// Expected updates that never arrived, summed over rounds.
    public var dropouts: Int
    /// Every client that missed at least one round.
    public var droppedClients: [ClientID]
    /// Messages refused over the run (garbage, bad updates).
    public var rejectedMessages: Int
    /// Client processes that connected.
    public var connectedProcesses: Int
    /// The malicious clients (ground truth), empty without an attack.
    public var maliciousClients: [ClientID]
    /// Detection rates over the run, when the scenario has detectors.
    public var detection: DetectionMetrics.Summary?
}
