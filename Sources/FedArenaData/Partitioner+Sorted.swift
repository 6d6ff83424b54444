extension Partitioner {
    /// The label-sorted split of Karimireddy, He and Jaggi (2022, "Byzantine-robust learning on
    /// heterogeneous datasets via bucketing", ICLR, §5): sort the pool by label, ties by index,
    /// and cut it into `clients` contiguous parts in client order.
    ///
    /// Part sizes follow numpy's `array_split`: with `count = q * clients + r`, the first `r`
    /// clients get `q + 1` samples and the others `q`. No randomness: client 0 gets the lowest
    /// labels. With 10 balanced classes and 25 clients most clients see a single class and the
    /// others two, the most skewed of the built-in splits.
    /// - Returns: Pool positions per client.
    func sorted(labels: [Int], clients: Int) -> [[Int]] {
        let order = labels.indices.sorted { labels[$0] != labels[$1] ? labels[$0] < labels[$1] : $0 < $1 }
        let base = labels.count / clients
        let extra = labels.count % clients
        var parts = [[Int]]()
        parts.reserveCapacity(clients)
        var start = 0
        for client in 0..<clients {
            let size = base + (client < extra ? 1 : 0)
            parts.append(Array(order[start..<(start + size)]))
            start += size
        }
        return parts
    }
}
