import FedArenaCore
import FedArenaNumerics

/// Who holds which training samples: the coordinator's root set and each client's partition.
///
/// The root set (FLTrust's "root dataset", Cao et al. 2021) is the first `rootSamples` of a
/// seeded uniform permutation of all training indices (stream `0xDA7A0001`), so it is a uniform
/// random sample, not class-balanced. The remaining samples are split among the clients by a
/// ``Partitioner``; the root set and the clients' samples are therefore disjoint and together
/// cover the training set. Everything depends only on the seed: every process that calls
/// ``make(labels:clients:spec:rootSamples:seed:classCount:)`` with the same arguments gets the
/// same split. Evaluation uses the separate test split (``FashionMNIST/test``).
public struct FederatedSplit: Sendable, Equatable {
    /// The coordinator's root set: training indices, sorted ascending (empty when `rootSamples` is 0).
    public var root: [Int]
    /// Per client (client `k` at index `k`), training indices, sorted ascending.
    public var clients: [[Int]]

    /// Creates a split from its parts (no checks: use ``make(labels:clients:spec:rootSamples:seed:classCount:)``).
    /// - Parameters:
    ///   - root: The coordinator's root set.
    ///   - clients: Per client, its training indices.
    public init(root: [Int], clients: [[Int]]) {
        self.root = root
        self.clients = clients
    }

    /// Draws the root set, then partitions the rest among the clients.
    /// - Parameters:
    ///   - labels: The label of every training sample.
    ///   - clients: The number of clients.
    ///   - spec: How the non-root samples are split.
    ///   - rootSamples: The size of the coordinator's root set, 0 for none.
    ///   - seed: The scenario seed.
    ///   - classCount: The number of classes, or `nil` for the largest label + 1.
    /// - Returns: The root set and the clients' index lists, all disjoint and sorted ascending.
    /// - Throws: ``DataError/Code/invalidArgument`` naming the parameter: `rootSamples` negative or
    ///   not less than the sample count, too few samples left for the clients, or anything
    ///   ``Partitioner/init(spec:seed:)`` and ``Partitioner/partition(labels:clients:among:classCount:)`` reject.
    public static func make(
        labels: [Int32], clients: Int, spec: PartitionSpec, rootSamples: Int, seed: UInt64, classCount: Int? = nil
    ) throws(DataError) -> FederatedSplit {
        let partitioner = try Partitioner(spec: spec, seed: seed)
        guard rootSamples >= 0, rootSamples < labels.count else {
            throw DataError.invalidArgument(
                "rootSamples", "must be in 0..<\(labels.count) (the training samples), got \(rootSamples)")
        }
        guard clients >= 1, labels.count - rootSamples >= clients else {
            throw DataError.invalidArgument(
                clients >= 1 ? "rootSamples" : "clients",
                clients >= 1
                    ? "a root set of \(rootSamples) leaves \(labels.count - rootSamples) samples, fewer than the \(clients) clients"
                    : "must be at least 1, got \(clients)")
        }
        var generator = SeededGenerator(seed: seed, stream: DataStream.rootSet)
        let order = generator.permutation(labels.count)
        let root = order[..<rootSamples].sorted()
        let rest = order[rootSamples...].sorted()
        let parts = try partitioner.partition(labels: labels, clients: clients, among: rest, classCount: classCount)
        return FederatedSplit(root: root, clients: parts)
    }

    /// Draws the split a scenario's dataset section asks for (`partition`, `rootSamples`).
    /// - Parameters:
    ///   - labels: The label of every (possibly `trainSubset`-limited) training sample.
    ///   - config: The dataset section.
    ///   - clients: The number of clients (`clients.count`).
    ///   - seed: The scenario seed.
    ///   - classCount: The number of classes, or `nil` for the largest label + 1.
    /// - Returns: The root set and the clients' index lists.
    /// - Throws: As ``make(labels:clients:spec:rootSamples:seed:classCount:)``.
    public static func make(
        labels: [Int32], config: DatasetConfig, clients: Int, seed: UInt64, classCount: Int? = nil
    ) throws(DataError) -> FederatedSplit {
        try make(
            labels: labels, clients: clients, spec: config.partition, rootSamples: config.rootSamples, seed: seed,
            classCount: classCount)
    }
}
