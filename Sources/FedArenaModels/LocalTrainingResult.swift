import FedArenaCore

/// What one client's local training produced.
public struct LocalTrainingResult: Sendable, Equatable {
    /// The locally trained parameters `w_local`.
    public var parameters: ParameterVector
    /// The update `Δ = w_local − w_global` (what a client sends).
    public var delta: ParameterVector
    /// The mean training cross-entropy of each epoch, over the samples in the order they were
    /// seen (each batch's loss is taken before its step); empty when there were no samples.
    public var epochLosses: [Double]
    /// The number of local samples `n_i` (the FedAvg weight).
    public var sampleCount: Int
    /// The number of SGD steps taken (`epochs x ⌈n / batchSize⌉`).
    public var steps: Int

    /// Creates a result.
    public init(parameters: ParameterVector, delta: ParameterVector, epochLosses: [Double], sampleCount: Int, steps: Int) {
        self.parameters = parameters
        self.delta = delta
        self.epochLosses = epochLosses
        self.sampleCount = sampleCount
        self.steps = steps
    }

    /// The mean training loss of the last epoch, or `nil` when there were no samples.
    public var lastEpochLoss: Double? { epochLosses.last }
}
