import FedArenaCore
import Foundation
import Testing

@testable import FedArenaData

/// The real training labels (60 KB, read once for this file), or nil without the dataset.
private let realLabels: [Int32]? = {
    guard let folder = try? FashionMNIST.locate(environment: [:]),
        let array = try? IDXReader.read(folder + "/" + FashionMNIST.Split.train.labelsFile)
    else { return nil }
    return array.bytes.map { Int32($0) }
}()

@Suite struct FederatedSplitTests {
    let labels: [Int32] = (0..<5_000).map { Int32(($0 * 7) % 10) }

    func expectDisjointCover(_ split: FederatedSplit, total: Int, root: Int, clients: Int) {
        #expect(split.root.count == root)
        #expect(split.root == split.root.sorted())
        #expect(Set(split.root).count == root)
        expectValidPartition(split.clients, pool: Array(Set(0..<total).subtracting(split.root)), clients: clients)
    }

    @Test(arguments: [PartitionSpec.iid, .dirichlet(alpha: 0.5), .shards(shardsPerClient: 2), .biasQ(q: 0.5)])
    func rootAndClientsAreDisjointAndCoverAll(spec: PartitionSpec) throws {
        let split = try FederatedSplit.make(labels: labels, clients: 20, spec: spec, rootSamples: 200, seed: 9)
        expectDisjointCover(split, total: 5_000, root: 200, clients: 20)
        #expect(try FederatedSplit.make(labels: labels, clients: 20, spec: spec, rootSamples: 200, seed: 9) == split)
        let other = try FederatedSplit.make(labels: labels, clients: 20, spec: spec, rootSamples: 200, seed: 10)
        #expect(other.root != split.root)
        #expect(other.clients != split.clients)
    }

    @Test func rootIsAUniformSampleAndCanBeEmpty() throws {
        let none = try FederatedSplit.make(labels: labels, clients: 10, spec: .iid, rootSamples: 0, seed: 1)
        #expect(none.root.isEmpty)
        expectDisjointCover(none, total: 5_000, root: 0, clients: 10)
        #expect(none.clients.allSatisfy { $0.count == 500 })
        // The same seed with a bigger root: the smaller root set is its prefix in draw order,
        // so every index of a 10-sample root is in the 100-sample root.
        let small = try FederatedSplit.make(labels: labels, clients: 10, spec: .iid, rootSamples: 10, seed: 1)
        let large = try FederatedSplit.make(labels: labels, clients: 10, spec: .iid, rootSamples: 100, seed: 1)
        #expect(Set(small.root).isSubset(of: large.root))
        #expect(large.root.first! < 500 && large.root.last! > 4_500)
        // Pinned: the root of a seed never changes (values from this code).
        let golden = try FederatedSplit.make(labels: labels, clients: 1, spec: .iid, rootSamples: 5, seed: 42)
        #expect(golden.root == [768, 1821, 3056, 4032, 4579])
    }

    @Test func configOverloadUsesPartitionAndRootSamples() throws {
        let config = DatasetConfig(partition: .dirichlet(alpha: 0.3), rootSamples: 50)
        let split = try FederatedSplit.make(labels: labels, config: config, clients: 25, seed: 3)
        #expect(split == (try FederatedSplit.make(labels: labels, clients: 25, spec: .dirichlet(alpha: 0.3), rootSamples: 50, seed: 3)))
        expectDisjointCover(split, total: 5_000, root: 50, clients: 25)
    }

    @Test func rejectsImpossibleRequests() {
        func message(clients: Int = 10, spec: PartitionSpec = .iid, root: Int) -> String? {
            do {
                _ = try FederatedSplit.make(labels: labels, clients: clients, spec: spec, rootSamples: root, seed: 1)
                return nil
            } catch {
                #expect(error.code == .invalidArgument)
                return error.message
            }
        }
        #expect(message(root: -1) == "rootSamples: must be in 0..<5000 (the training samples), got -1")
        #expect(message(root: 5_000) == "rootSamples: must be in 0..<5000 (the training samples), got 5000")
        #expect(message(root: 4_995) == "rootSamples: a root set of 4995 leaves 5 samples, fewer than the 10 clients")
        #expect(message(clients: 0, root: 0) == "clients: must be at least 1, got 0")
        #expect(message(spec: .dirichlet(alpha: 0), root: 0)?.hasPrefix("alpha: ") == true)
        #expect(message(spec: .shards(shardsPerClient: 2), root: 110)?.hasPrefix("shardsPerClient: 4890 samples") == true)
    }

    @Test(.enabled(if: realLabels != nil, "dataset-fashion-mnist is not installed"))
    func splitsTheRealTrainingSet() throws {
        let labels = try #require(realLabels)
        #expect(labels.count == 60_000)
        let split = try FederatedSplit.make(labels: labels, clients: 100, spec: .dirichlet(alpha: 0.5), rootSamples: 100, seed: 42)
        expectDisjointCover(split, total: 60_000, root: 100, clients: 100)
        let shards = try FederatedSplit.make(labels: labels, clients: 100, spec: .shards(shardsPerClient: 2), rootSamples: 0, seed: 42)
        #expect(shards.clients.allSatisfy { part in part.count == 600 && Set(part.map { labels[$0] }).count <= 2 })
    }
}
