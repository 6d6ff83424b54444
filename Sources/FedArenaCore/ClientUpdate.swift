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
    /// The detection decision's factor on this update's aggregation weight, in [0, 1]: 1 by
    /// default, the down-weight factor when the detection policy down-weights the client.
    /// Each rule documents how it uses it (weighted rules multiply their weight by it).
    public var weight: Double = 1
    /// Raw training samples revealed for the opt-in `audit-c2st` detector, if any.
    public var auditSamples: LabeledSamples?

    /// Creates an update.
    public init(client: ClientID, round: Int, sampleCount: Int, delta: ParameterVector, trainLoss: Double = .nan, sketch: DataSketch? = nil) {
        self.sketch = sketch
        self.client = client
        self.round = round
        self.sampleCount = sampleCount
        self.delta = delta
        self.trainLoss = trainLoss
    }
}
