/// State a stateful aggregation rule carries from round to round (FoolsGold's per-client
/// history), owned by the runtime so that a checkpoint can save it and a test can replay it.
public struct AggregatorMemory: Sendable, Equatable {
    /// Named vectors (for example `history.<client>` for FoolsGold).
    public var vectors: [String: ParameterVector]
    /// Named numbers.
    public var scalars: [String: Double]

    /// Creates a memory, empty by default.
    public init(vectors: [String: ParameterVector] = [:], scalars: [String: Double] = [:]) {
        self.vectors = vectors
        self.scalars = scalars
    }
}
