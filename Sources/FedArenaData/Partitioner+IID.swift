import FedArenaNumerics

extension Partitioner {
    /// IID: a seeded permutation of the pool cut into consecutive parts.
    ///
    /// With `count = q * clients + r`, the first `r` clients get `q + 1` samples and the others
    /// `q` (numpy's `array_split`): every sample is used and sizes differ by at most one
    /// (60,000 / 100 leaves nothing over: 600 each).
    /// - Returns: Pool positions per client.
    func iid(count: Int, clients: Int) -> [[Int]] {
        var generator = SeededGenerator(seed: seed, stream: DataStream.iid)
        let order = generator.permutation(count)
        let base = count / clients
        let extra = count % clients
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
