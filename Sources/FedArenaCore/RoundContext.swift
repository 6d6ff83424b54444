/// What the coordinator knows about a round when it merges updates.
///
/// Plug-ins receive it by value; it never carries raw client data.
public struct RoundContext: Sendable {
    /// The 1-based round number.
    public var round: Int
    /// The global model the clients started from, `w_t`.
    public var globalModel: ParameterVector
    /// The aggregate of the previous round (centered clipping starts from it), if any.
    public var previousAggregate: ParameterVector?
    /// The coordinator's own update on its root set (FLTrust's `Δ_root`), if computed.
    public var referenceUpdate: ParameterVector?
    /// How many updates the coordinator expected this round (before dropouts).
    public var expectedUpdates: Int
    /// What a stateful rule kept from earlier rounds (empty in round 1).
    public var memory: AggregatorMemory

    /// Creates a context.
    public init(
        round: Int, globalModel: ParameterVector, previousAggregate: ParameterVector? = nil,
        referenceUpdate: ParameterVector? = nil, expectedUpdates: Int, memory: AggregatorMemory = AggregatorMemory()
    ) {
        self.memory = memory
        self.round = round
        self.globalModel = globalModel
        self.previousAggregate = previousAggregate
        self.referenceUpdate = referenceUpdate
        self.expectedUpdates = expectedUpdates
    }
}
