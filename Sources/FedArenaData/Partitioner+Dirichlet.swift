import FedArenaNumerics

extension Partitioner {
    /// Label-skewed split by Dirichlet draws (Hsu, Qi and Brown 2019, "Measuring the effects of
    /// non-identical data distribution for federated visual classification").
    ///
    /// The variant is the per-class one (Yurochkin et al. 2019; Li, Diao, Chen and He 2022,
    /// "Federated learning on non-IID data silos", NIID-Bench): for each class c in turn, shuffle
    /// the class's samples, draw proportions p ~ Dir_clients(α), and cut the shuffled list at
    /// `⌊n_c · (p_1 + ... + p_k)⌋`, k = 1..clients-1, giving client k the k-th piece. Small α
    /// gives each client few classes; large α approaches IID. NIID-Bench's balancing term is not
    /// applied, so client sizes vary too. Clients left empty get one sample each (see
    /// ``fillEmptyClients(_:using:)``).
    /// - Returns: Pool positions per client.
    func dirichlet(labels: [Int], classCount: Int, clients: Int, alpha: Double) -> [[Int]] {
        var generator = SeededGenerator(seed: seed, stream: DataStream.dirichlet)
        var byClass = [[Int]](repeating: [], count: classCount)
        for (position, label) in labels.enumerated() { byClass[label].append(position) }

        var assignment = [[Int]](repeating: [], count: clients)
        for var members in byClass {
            generator.shuffle(&members)
            let proportions = generator.dirichlet(alpha: alpha, count: clients)
            let total = members.count
            var cumulative = 0.0
            var start = 0
            for client in 0..<clients {
                var end = total
                if client < clients - 1 {
                    cumulative += proportions[client]
                    end = min(max(Int(cumulative * Double(total)), start), total)
                }
                assignment[client].append(contentsOf: members[start..<end])
                start = end
            }
        }
        fillEmptyClients(&assignment, using: &generator)
        return assignment
    }
}
