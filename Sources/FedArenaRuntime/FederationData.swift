import FedArenaCore
import FedArenaData

/// The data of a run as one process sees it: the seeded split of the training set into the
/// coordinator's root set and the clients' partitions, and only the samples this process needs.
///
/// Every process reads the training labels and computes the same split from the scenario seed
/// (no partition travels over the network). Then:
/// - a client process (``Role/clients(_:)``) reads only the rows of the clients it hosts and
///   keeps them compact (``SampleStore``: Fashion-MNIST's pixels stay uint8, a quarter of the
///   float32 size); ``shard(for:)`` makes one client's float32 samples when it trains, and the
///   caller drops them afterwards;
/// - the coordinator (``Role/coordinator``) reads only the root set and the test set.
public struct FederationData: Sendable {
    /// What a process loads.
    public enum Role: Sendable, Equatable {
        /// The coordinator: the root set and the test set, no client's samples.
        case coordinator
        /// A client process: the samples of these clients, no test set.
        case clients([ClientID])
    }

    /// What the dataset holds: the sample shape, the class count and the split sizes (the
    /// test count is 0 in a client process, which does not read the test set).
    public var dataset: DatasetDescription
    /// Which training samples go where.
    public var split: FederatedSplit
    /// The test set the coordinator evaluates on (empty for a client process).
    public var testSet: LabeledSamples
    /// The coordinator's root set (empty for a client process, or without a root set).
    public var rootSet: LabeledSamples
    /// The training rows this process holds, ascending dataset indices, and their samples.
    private var heldIndices: [Int]
    private var held: SampleStore

    /// Loads what `role` needs of the scenario's dataset and computes the split of `config`.
    /// - Parameters:
    ///   - config: The scenario (its dataset section validated: shape and class count resolved).
    ///   - role: Which process this is.
    ///   - directoryOverride: A Fashion-MNIST folder that wins over `dataset.path` and `FEDARENA_DATA`.
    /// - Returns: The split and the samples `role` needs.
    /// - Throws: ``RuntimeError`` `.dataUnavailable` with the data layer's message (which names
    ///   the file and the reason: missing, malformed, wrong shape, label out of range, ...).
    public static func load(config: ScenarioConfig, role: Role, directoryOverride: String? = nil) throws(RuntimeError) -> FederationData {
        var dataset = config.dataset
        if let directoryOverride { dataset.directory = directoryOverride }
        do {
            let source = try DatasetSource(dataset)
            let labels = try source.trainLabels()
            let split = try FederatedSplit.make(
                labels: labels, config: dataset, clients: config.clients.count, seed: config.seed, classCount: dataset.classCount)
            let description = DatasetDescription(
                shape: dataset.shape, classCount: dataset.classCount, trainCount: labels.count, testCount: 0)
            let empty = LabeledSamples(features: [], labels: [], featureCount: dataset.featureCount, classCount: dataset.classCount)
            switch role {
            case .coordinator:
                let root = try source.train(rows: split.root).samples()
                let test = try source.test().samples()
                var data = FederationData(
                    dataset: description, split: split, testSet: test, rootSet: root, heldIndices: [],
                    held: SampleStore(values: .pixels([]), labels: [], featureCount: dataset.featureCount, classCount: dataset.classCount))
                data.dataset.testCount = test.count
                return data
            case .clients(let clients):
                var rows = [Int]()
                for client in clients where split.clients.indices.contains(client.rawValue) {
                    rows += split.clients[client.rawValue]
                }
                rows.sort()
                return FederationData(
                    dataset: description, split: split, testSet: empty, rootSet: empty, heldIndices: rows,
                    held: try source.train(rows: rows))
            }
        } catch {
            throw RuntimeError(.dataUnavailable, "\(error)", cause: error)
        }
    }

    /// The bytes the training samples this process holds take in memory.
    public var heldFeatureBytes: Int { held.featureBytes }

    /// The float32 samples of `client`, made from the compact rows this process holds.
    /// - Parameter client: A client this process loaded (``Role/clients(_:)``).
    /// - Returns: Its samples in ascending dataset order, or `nil` for a client this process
    ///   does not hold (or one outside the federation).
    public func shard(for client: ClientID) -> LabeledSamples? {
        guard split.clients.indices.contains(client.rawValue) else { return nil }
        let indices = split.clients[client.rawValue]
        var positions = [Int]()
        positions.reserveCapacity(indices.count)
        for index in indices {
            guard let position = position(of: index) else { return nil }
            positions.append(position)
        }
        return held.samples(positions)
    }

    /// The position of dataset row `index` among the held rows (binary search), or `nil`.
    private func position(of index: Int) -> Int? {
        var low = 0
        var high = heldIndices.count
        while low < high {
            let middle = (low + high) / 2
            if heldIndices[middle] < index { low = middle + 1 } else { high = middle }
        }
        return low < heldIndices.count && heldIndices[low] == index ? low : nil
    }
}
