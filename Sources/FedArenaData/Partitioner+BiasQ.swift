import FedArenaNumerics

extension Partitioner {
    /// FLTrust's biased split (Cao, Fang, Liu and Gong 2021, "FLTrust: Byzantine-robust
    /// federated learning via trust bootstrapping", NDSS, §5.1).
    ///
    /// There is one group per class; client `c` belongs to group `c % classCount` (so groups
    /// differ in size by at most one, and the first clients, often the attackers, spread over
    /// all groups). Each sample of label l, in index order, goes to group l with probability q,
    /// else to one of the other groups uniformly (probability (1 − q) / (classCount − 1) each),
    /// then to a uniform client of that group. q = 1 / classCount is IID; larger q is more
    /// skewed. Clients left empty (only on tiny pools) get one sample each (see
    /// ``fillEmptyClients(_:using:)``).
    /// - Returns: Pool positions per client.
    /// - Throws: ``DataError/Code/invalidArgument`` (`clients`) when there are fewer clients than
    ///   classes, which would leave a group without a client.
    func biasQ(labels: [Int], classCount: Int, clients: Int, q: Double) throws(DataError) -> [[Int]] {
        guard clients >= classCount else {
            throw DataError.invalidArgument(
                "clients", "bias-q makes one group per class: \(classCount) classes need at least \(classCount) clients, got \(clients)")
        }
        var groups = [[Int]](repeating: [], count: classCount)
        for client in 0..<clients { groups[client % classCount].append(client) }

        var generator = SeededGenerator(seed: seed, stream: DataStream.biasQ)
        var assignment = [[Int]](repeating: [], count: clients)
        for (position, label) in labels.enumerated() {
            var group = label
            if classCount > 1, generator.unitDouble() >= q {
                let other = generator.uniform(below: classCount - 1)
                group = other < label ? other : other + 1
            }
            let members = groups[group]
            assignment[members[generator.uniform(below: members.count)]].append(position)
        }
        fillEmptyClients(&assignment, using: &generator)
        return assignment
    }
}
