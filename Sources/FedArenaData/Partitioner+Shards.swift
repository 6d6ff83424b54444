import FedArenaNumerics

extension Partitioner {
    /// Pathological non-IID split by label shards (McMahan, Moore, Ramage, Hampson and
    /// Agüera y Arcas 2017, "Communication-efficient learning of deep networks from
    /// decentralized data", §3).
    ///
    /// Sort the pool by label (ties by index), cut it into `clients * shardsPerClient` shards of
    /// equal size, and deal a seeded permutation of the shards, `shardsPerClient` to each
    /// client: 60,000 samples, 100 clients, 2 shards each gives shards of 300, so most clients
    /// see two classes.
    /// - Returns: Pool positions per client.
    /// - Throws: ``DataError/Code/invalidArgument`` (`shardsPerClient`) when the shards do not
    ///   divide the pool evenly.
    func shards(labels: [Int], clients: Int, shardsPerClient: Int) throws(DataError) -> [[Int]] {
        let (shardCount, overflow) = clients.multipliedReportingOverflow(by: shardsPerClient)
        guard !overflow, shardCount <= labels.count, labels.count % shardCount == 0 else {
            throw DataError.invalidArgument(
                "shardsPerClient",
                "\(labels.count) samples do not split into \(clients) clients x \(shardsPerClient) shards of equal size; "
                    + "choose counts whose product divides the \(labels.count) samples left after the root set")
        }
        let shardSize = labels.count / shardCount
        let sorted = labels.indices.sorted { labels[$0] != labels[$1] ? labels[$0] < labels[$1] : $0 < $1 }

        var generator = SeededGenerator(seed: seed, stream: DataStream.shards)
        let dealt = generator.permutation(shardCount)
        return (0..<clients).map { client in
            dealt[(client * shardsPerClient)..<((client + 1) * shardsPerClient)].flatMap { shard in
                sorted[(shard * shardSize)..<((shard + 1) * shardSize)]
            }
        }
    }
}
