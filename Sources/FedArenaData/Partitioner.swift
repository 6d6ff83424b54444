import FedArenaCore
import FedArenaNumerics

/// Splits training samples among clients as a ``PartitionSpec`` says, deterministically from a seed.
///
/// The five schemes (each in its own `Partitioner+Scheme.swift`):
/// - `.iid`: a seeded permutation cut into equal parts.
/// - `.dirichlet(alpha:)`: label skew by a Dirichlet draw per class (Hsu, Qi and Brown 2019;
///   the per-class variant of Yurochkin et al. 2019 and Li et al. 2022).
/// - `.shards(shardsPerClient:)`: sort by label, deal equal shards (McMahan et al. 2017).
/// - `.biasQ(q:)`: FLTrust's bias (Cao, Fang, Liu and Gong 2021).
/// - `.sorted`: sort by label, cut into contiguous parts (Karimireddy, He and Jaggi 2022).
///
/// The pool of samples to split is treated as a set: it is sorted first, so the result does
/// not depend on the order the indices come in. Every client's list is sorted ascending, the
/// lists are disjoint, and together they hold every pool sample exactly once. Every client
/// gets at least one sample (see each scheme for how). Randomness comes from
/// `SeededGenerator(seed: seed, stream: [tag])` with one fixed tag per scheme
/// (`0xDA7A0010` IID, `0xDA7A0011` Dirichlet, `0xDA7A0012` shards, `0xDA7A0013` bias-q; `.sorted`
/// draws nothing).
public struct Partitioner: Sendable, Equatable {
    /// The scheme.
    public let spec: PartitionSpec
    /// The seed every random choice derives from.
    public let seed: UInt64

    /// Creates a partitioner, checking the scheme's own parameters.
    /// - Parameters:
    ///   - spec: The scheme.
    ///   - seed: The scenario seed.
    /// - Throws: ``DataError/Code/invalidArgument`` for α ≤ 0 or not finite, `shardsPerClient` < 1,
    ///   or q outside [0, 1].
    public init(spec: PartitionSpec, seed: UInt64) throws(DataError) {
        switch spec {
        case .iid, .sorted:
            break
        case .dirichlet(let alpha):
            guard alpha > 0, alpha.isFinite else {
                throw DataError.invalidArgument("alpha", "the Dirichlet concentration must be finite and > 0, got \(alpha)")
            }
        case .shards(let shardsPerClient):
            guard shardsPerClient >= 1 else {
                throw DataError.invalidArgument("shardsPerClient", "must be at least 1, got \(shardsPerClient)")
            }
        case .biasQ(let q):
            guard q >= 0, q <= 1 else {
                throw DataError.invalidArgument("q", "the bias probability must be in [0, 1], got \(q)")
            }
        }
        self.spec = spec
        self.seed = seed
    }

    /// Splits the pool among `clients` clients.
    /// - Parameters:
    ///   - labels: The label of every training sample (the pool indexes into it).
    ///   - clients: The number of clients, at least 1 and at most the pool size.
    ///   - pool: The sample indices to split (e.g. all but the root set), or `nil` for all of `labels`.
    ///   - classCount: The number of classes (bias-q makes one group per class), or `nil` for the
    ///     largest label + 1.
    /// - Returns: One list of sample indices (into `labels`) per client, each sorted ascending.
    /// - Throws: ``DataError/Code/invalidArgument`` naming the parameter: `clients` < 1 or more
    ///   than the pool, a pool index out of range or repeated, a label outside `0..<classCount`,
    ///   shards that do not divide the pool, fewer clients than classes for bias-q.
    public func partition(
        labels: [Int32], clients: Int, among pool: [Int]? = nil, classCount: Int? = nil
    ) throws(DataError) -> [[Int]] {
        let members = try checkedPool(pool, labelCount: labels.count)
        guard clients >= 1 else { throw DataError.invalidArgument("clients", "must be at least 1, got \(clients)") }
        guard members.count >= clients else {
            throw DataError.invalidArgument(
                "clients", "\(clients) clients cannot each get a sample from \(members.count) samples")
        }
        let classes = try checkedClassCount(classCount, labels: labels, pool: members)
        let poolLabels = members.map { Int(labels[$0]) }

        let local: [[Int]]
        switch spec {
        case .iid:
            local = iid(count: members.count, clients: clients)
        case .dirichlet(let alpha):
            local = dirichlet(labels: poolLabels, classCount: classes, clients: clients, alpha: alpha)
        case .shards(let shardsPerClient):
            local = try shards(labels: poolLabels, clients: clients, shardsPerClient: shardsPerClient)
        case .biasQ(let q):
            local = try biasQ(labels: poolLabels, classCount: classes, clients: clients, q: q)
        case .sorted:
            local = sorted(labels: poolLabels, clients: clients)
        }
        return local.map { positions in positions.map { members[$0] }.sorted() }
    }

    // MARK: - Checks

    /// The pool, sorted, after checking each index is in range and appears once.
    private func checkedPool(_ pool: [Int]?, labelCount: Int) throws(DataError) -> [Int] {
        guard let pool else { return Array(0..<labelCount) }
        var seen = [Bool](repeating: false, count: labelCount)
        for index in pool {
            guard index >= 0, index < labelCount else {
                throw DataError.invalidArgument("pool", "index \(index) is outside 0..<\(labelCount)")
            }
            guard !seen[index] else { throw DataError.invalidArgument("pool", "index \(index) appears twice") }
            seen[index] = true
        }
        return pool.sorted()
    }

    private func checkedClassCount(_ classCount: Int?, labels: [Int32], pool: [Int]) throws(DataError) -> Int {
        var largest = 0
        var smallest = 0
        for index in pool {
            let label = Int(labels[index])
            largest = max(largest, label)
            smallest = min(smallest, label)
        }
        guard smallest >= 0 else { throw DataError.invalidArgument("labels", "label \(smallest) is negative") }
        guard let classCount else { return largest + 1 }
        guard classCount >= 1 else { throw DataError.invalidArgument("classCount", "must be at least 1, got \(classCount)") }
        guard largest < classCount else {
            throw DataError.invalidArgument("labels", "label \(largest) is not a class 0..<\(classCount)")
        }
        return classCount
    }

    // MARK: - Shared

    /// Gives every empty client one sample, taken uniformly at random from the client holding
    /// the most samples (the lowest-numbered one on a tie), until no client is empty.
    ///
    /// Chosen over re-drawing the whole partition (NIID-Bench's loop) because it always ends,
    /// even at tiny α with many clients, and changes the drawn partition as little as possible.
    /// A donor always has at least two samples, since the pool has at least one sample per client.
    func fillEmptyClients(_ assignment: inout [[Int]], using generator: inout SeededGenerator) {
        for empty in assignment.indices where assignment[empty].isEmpty {
            var donor = 0
            for client in assignment.indices where assignment[client].count > assignment[donor].count { donor = client }
            precondition(assignment[donor].count >= 2, "a pool with a sample per client always has a donor")
            let pick = generator.uniform(below: assignment[donor].count)
            assignment[donor].swapAt(pick, assignment[donor].count - 1)
            assignment[empty].append(assignment[donor].removeLast())
        }
    }
}
