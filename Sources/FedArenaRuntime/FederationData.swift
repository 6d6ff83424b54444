import FedArenaCore
import FedArenaData

/// The data of a run as one process sees it: the training samples and the seeded split into
/// the coordinator's root set and the clients' partitions, plus the test set.
///
/// Every process computes the same split from the scenario seed, so a client process holds
/// only its own clients' samples and no partition has to travel over the network.
public struct FederationData: Sendable {
    /// All (possibly subset) training samples.
    public var train: LabeledSamples
    /// The test set the coordinator evaluates on.
    public var testSet: LabeledSamples
    /// Which training samples go where.
    public var split: FederatedSplit

    /// The coordinator's root set.
    public var rootSet: LabeledSamples { train.subset(split.root) }

    /// Loads the dataset and computes the split of `config`.
    /// - Parameters:
    ///   - config: the scenario.
    ///   - directoryOverride: a folder that wins over `dataset.path` and `FEDARENA_DATA`.
    /// - Throws: ``RuntimeError`` `.dataUnavailable` with the data layer's message (which
    ///   names the folder, the missing files and the package to install).
    public static func load(config: ScenarioConfig, directoryOverride: String?) throws(RuntimeError) -> FederationData {
        var dataset = config.dataset
        if let directoryOverride { dataset.directory = directoryOverride }
        do {
            let loaded = try FashionMNIST.load(dataset)
            let split = try FederatedSplit.make(
                labels: loaded.train.labels, config: dataset, clients: config.clients.count, seed: config.seed,
                classCount: loaded.train.classCount)
            return FederationData(train: loaded.train, testSet: loaded.test, split: split)
        } catch {
            throw RuntimeError(.dataUnavailable, "\(error)", cause: error)
        }
    }

    /// The samples of each of `clients`.
    public func clientShards(for clients: [ClientID]) -> [ClientID: LabeledSamples] {
        var shards = [ClientID: LabeledSamples]()
        for client in clients where split.clients.indices.contains(client.rawValue) {
            shards[client] = train.subset(split.clients[client.rawValue])
        }
        return shards
    }
}
