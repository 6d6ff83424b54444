/// What one client sends back after local training in one round.
public struct ClientUpdate: Sendable, Equatable {
    /// The logical client that trained.
    public var client: ClientID
    /// The round the update answers.
    public var round: Int
    /// How many local samples the client trained on (the FedAvg weight).
    public var sampleCount: Int
    /// The model delta `w_local - w_global`.
    public var delta: ParameterVector
    /// The client's mean training loss over its last local epoch.
    public var trainLoss: Double
    /// The client's sketch of the data it trained on, when the scenario's detectors ask for one.
    public var sketch: DataSketch?
    /// Raw training samples revealed for the opt-in `audit-c2st` detector, if any.
    public var auditSamples: LabeledSamples?
    /// The client's commitment to its local steps (`training-audit`), if it sent one.
    public var commitment: TrainingCommitment?
    /// The coordinator's trust in this update, in [0, 1] (default 1): the detection decision's
    /// weight (``DetectionDecision/weight`` in `FedArenaDefenses`: 1 accept, the down-weight
    /// factor, 0 exclude). Never sent by clients. Every aggregation rule treats 0 as exclusion;
    /// what a weight in (0, 1) does is stated in each rule's documentation (FedAvg multiplies
    /// the sample-count weight, FLTrust the trust score; rules without weights treat it as 1).
    public var weight: Double

    /// Creates an update.
    public init(
        client: ClientID, round: Int, sampleCount: Int, delta: ParameterVector, trainLoss: Double = .nan, sketch: DataSketch? = nil,
        weight: Double = 1
    ) {
        self.sketch = sketch
        self.weight = weight
        self.client = client
        self.round = round
        self.sampleCount = sampleCount
        self.delta = delta
        self.trainLoss = trainLoss
    }
}
