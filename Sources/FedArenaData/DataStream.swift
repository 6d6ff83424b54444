/// The stream paths FedArenaData draws its randomness from: `SeededGenerator(seed: seed,
/// stream: DataStream.x)`. Fixed tags, so a split depends only on the seed, never on which
/// process computes it; the `0xDA7A_xxxx` tags keep clear of the small integers that the
/// runtime uses for `[round, client, epoch]` paths.
enum DataStream {
    /// The coordinator's root set (``FederatedSplit``).
    static let rootSet: [UInt64] = [0xDA7A_0001]
    /// IID partition.
    static let iid: [UInt64] = [0xDA7A_0010]
    /// Dirichlet partition.
    static let dirichlet: [UInt64] = [0xDA7A_0011]
    /// Label-shard partition.
    static let shards: [UInt64] = [0xDA7A_0012]
    /// FLTrust bias-q partition.
    static let biasQ: [UInt64] = [0xDA7A_0013]
}
