import FedArenaCore
import FedArenaNumerics
import Testing

@testable import FedArenaData

/// 12,000 labels, 1,200 per class, in a seeded order (a fifth of Fashion-MNIST's training
/// labels: debug builds are slow; FederatedSplitTests splits the real 60,000).
private let labels: [Int32] = {
    var values = (0..<12_000).map { Int32($0 % 10) }
    var generator = SeededGenerator(seed: 7, stream: [1])
    generator.shuffle(&values)
    return values
}()

/// Checks the invariants every partition keeps, recording issues.
func expectValidPartition(_ parts: [[Int]], pool: [Int], clients: Int, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(parts.count == clients, sourceLocation: sourceLocation)
    #expect(parts.allSatisfy { !$0.isEmpty }, "a client is empty", sourceLocation: sourceLocation)
    #expect(parts.allSatisfy { $0 == $0.sorted() }, "a list is not sorted", sourceLocation: sourceLocation)
    let all = parts.flatMap { $0 }
    #expect(all.count == pool.count, "samples lost or repeated", sourceLocation: sourceLocation)
    #expect(Set(all) == Set(pool), "union differs from the pool", sourceLocation: sourceLocation)
}

/// The mean over clients of the largest class's share of the client's samples.
func meanDominantShare(_ parts: [[Int]]) -> Double {
    let shares = parts.map { part -> Double in
        var histogram = [Int](repeating: 0, count: 10)
        for index in part { histogram[Int(labels[index])] += 1 }
        return Double(histogram.max()!) / Double(part.count)
    }
    return shares.reduce(0, +) / Double(shares.count)
}

@Suite struct PartitionerTests {
    static let specs: [PartitionSpec] = [
        .iid, .dirichlet(alpha: 0.1), .dirichlet(alpha: 100), .shards(shardsPerClient: 2), .biasQ(q: 0.5), .sorted,
    ]

    func partition(_ spec: PartitionSpec, seed: UInt64 = 42, clients: Int = 100, pool: [Int]? = nil) throws -> [[Int]] {
        try Partitioner(spec: spec, seed: seed).partition(labels: labels, clients: clients, among: pool, classCount: 10)
    }

    @Test(arguments: specs)
    func coversThePoolDisjointlyAndIsDeterministic(spec: PartitionSpec) throws {
        let parts = try partition(spec)
        expectValidPartition(parts, pool: Array(0..<12_000), clients: 100)
        #expect(try partition(spec) == parts)
        if spec != .sorted { #expect(try partition(spec, seed: 43) != parts) }
    }

    @Test(arguments: specs)
    func splitsASubsetPoolRegardlessOfItsOrder(spec: PartitionSpec) throws {
        let pool = Array(stride(from: 0, to: 12_000, by: 3))  // 4,000 samples
        let parts = try partition(spec, clients: 50, pool: pool)
        expectValidPartition(parts, pool: pool, clients: 50)
        #expect(try partition(spec, clients: 50, pool: pool.reversed()) == parts)
    }

    @Test func iidSizesAreEqual() throws {
        #expect(try partition(.iid).allSatisfy { $0.count == 120 })
        // 1,003 samples for 10 clients: the first 3 get one more.
        let uneven = try partition(.iid, clients: 10, pool: Array(0..<1_003))
        #expect(uneven.map(\.count) == [101, 101, 101, 100, 100, 100, 100, 100, 100, 100])
        #expect(meanDominantShare(try partition(.iid)) < 0.2)
    }

    /// Pins the algorithms: a change here changes every experiment's split (values from this code, seed 42).
    @Test(arguments: [
        (PartitionSpec.iid, [[1, 5, 6, 9], [2, 3, 8, 11], [0, 4, 7, 10]]),
        (.dirichlet(alpha: 0.5), [[2, 5, 11], [4, 7, 10], [0, 1, 3, 6, 8, 9]]),
        (.shards(shardsPerClient: 2), [[6, 8, 9, 11], [1, 2, 4, 5], [0, 3, 7, 10]]),
        (.biasQ(q: 0.5), [[0, 3, 9], [1, 2, 6, 7], [4, 5, 8, 10, 11]]),
    ])
    func goldenValues(spec: PartitionSpec, expected: [[Int]]) throws {
        let small: [Int32] = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2]
        let parts = try Partitioner(spec: spec, seed: 42).partition(labels: small, clients: 3)
        #expect(parts == expected)
    }

    /// Hand-computed: sort by label (ties by index), cut into `clients` contiguous parts, the
    /// first `count % clients` one larger, each part then listed ascending.
    @Test(arguments: [
        // Labels 2 0 1 0 2 1 0: label order 1 3 6 | 2 5 | 0 4; 7 = 3 + 2 + 2.
        ([2, 0, 1, 0, 2, 1, 0] as [Int32], 3, nil as [Int]?, [[1, 3, 6], [2, 5], [0, 4]]),
        // Labels 1 1 0 2 0 1 2 2 0 1: label order 2 4 8 | 0 1 5 9 | 3 6 7; 10 = 3 + 3 + 2 + 2.
        ([1, 1, 0, 2, 0, 1, 2, 2, 0, 1], 4, nil, [[2, 4, 8], [0, 1, 5], [3, 9], [6, 7]]),
        // The same labels, pool 9 6 5 3 2 0 (order does not matter): labels 1 2 1 2 0 1 there,
        // label order 2 | 0 5 9 | 3 6; 6 = 2 + 2 + 2.
        ([1, 1, 0, 2, 0, 1, 2, 2, 0, 1], 3, [9, 6, 5, 3, 2, 0], [[0, 2], [5, 9], [3, 6]]),
    ])
    func sortedGivesContiguousLabelRuns(labels: [Int32], clients: Int, pool: [Int]?, expected: [[Int]]) throws {
        for seed: UInt64 in [1, 2] {
            #expect(try Partitioner(spec: .sorted, seed: seed).partition(labels: labels, clients: clients, among: pool) == expected)
        }
    }

    @Test func sortedLeavesMostClientsOneClass() throws {
        // 12,000 balanced labels, 25 clients of 480: the class boundaries sit at 1,200 m, that
        // is 2.5 m clients; for odd m (1, 3, 5, 7, 9) a boundary falls inside a client, for even
        // m on an edge: 5 clients see two classes, 20 see one.
        let parts = try partition(.sorted, clients: 25)
        let classesPerClient = parts.map { Set($0.map { labels[$0] }).count }
        #expect(parts.allSatisfy { $0.count == 480 })
        #expect(classesPerClient.filter { $0 == 1 }.count == 20)
        #expect(classesPerClient.filter { $0 == 2 }.count == 5)
    }

    @Test func dirichletSkewGrowsAsAlphaShrinks() throws {
        let skewed = meanDominantShare(try partition(.dirichlet(alpha: 0.1)))
        let mild = meanDominantShare(try partition(.dirichlet(alpha: 100)))
        #expect(skewed > 0.6)
        #expect(mild < 0.2)
        #expect(skewed > mild)
    }

    @Test func dirichletNeverLeavesAClientEmpty() throws {
        // At α = 0.001 nearly every class goes to one client: without the guard most would be empty.
        let parts = try partition(.dirichlet(alpha: 0.001))
        expectValidPartition(parts, pool: Array(0..<12_000), clients: 100)
        // The tightest case: as many clients as samples.
        let tight = try partition(.dirichlet(alpha: 0.01), clients: 40, pool: Array(0..<40))
        #expect(tight.allSatisfy { $0.count == 1 })
        expectValidPartition(tight, pool: Array(0..<40), clients: 40)
    }

    @Test func fillEmptyClientsTakesFromTheLargest() throws {
        var assignment = [[5, 6, 7], [], [8, 9], []]
        var generator = SeededGenerator(seed: 1)
        try Partitioner(spec: .iid, seed: 1).fillEmptyClients(&assignment, using: &generator)
        // Client 1 takes from client 0 (3 samples); client 3 from client 0 again (2, tied with
        // client 2: the lower number gives).
        #expect(assignment.map(\.count) == [1, 1, 2, 1])
        #expect(assignment[2] == [8, 9])
        #expect(Set(assignment.flatMap { $0 }) == [5, 6, 7, 8, 9])
    }

    @Test func shardsDealEqualSingleClassShards() throws {
        let parts = try partition(.shards(shardsPerClient: 2))
        #expect(parts.allSatisfy { $0.count == 120 })
        // 1,200 samples per class in shards of 60: every shard holds one class.
        let classesPerClient = parts.map { Set($0.map { labels[$0] }).count }
        #expect(classesPerClient.allSatisfy { $0 <= 2 })
        #expect(classesPerClient.contains(2))
        let three = try partition(.shards(shardsPerClient: 3), clients: 40)  // 120 shards of 100
        #expect(three.allSatisfy { $0.count == 300 })
    }

    @Test(arguments: [0.5, 0.8])
    func biasQSendsShareQToTheLabelsGroup(q: Double) throws {
        let parts = try partition(.biasQ(q: q))
        var own = 0
        for (client, part) in parts.enumerated() {
            own += part.filter { Int(labels[$0]) == client % 10 }.count
        }
        let share = Double(own) / 12_000
        #expect(abs(share - q) < 0.01, "share \(share)")
        #expect(parts.allSatisfy { $0.count > 70 && $0.count < 170 })
    }

    @Test func biasQExtremes() throws {
        let pure = try partition(.biasQ(q: 1))
        #expect(pure.enumerated().allSatisfy { client, part in part.allSatisfy { Int(labels[$0]) == client % 10 } })
        let never = try partition(.biasQ(q: 0))
        #expect(never.enumerated().allSatisfy { client, part in part.allSatisfy { Int(labels[$0]) != client % 10 } })
        // q = 1/10 is IID: about a tenth of each client's samples in each class.
        #expect(meanDominantShare(try partition(.biasQ(q: 0.1))) < 0.2)
    }

    @Test func rejectsImpossibleRequests() throws {
        func message(_ body: () throws -> Void) -> String? {
            do {
                try body()
                return nil
            } catch {
                let dataError = error as? DataError
                #expect(dataError?.code == .invalidArgument)
                return dataError?.message
            }
        }
        for alpha in [0, -1, Double.nan, .infinity] {
            #expect(message { _ = try Partitioner(spec: .dirichlet(alpha: alpha), seed: 1) }?.hasPrefix("alpha: ") == true)
        }
        #expect(message { _ = try Partitioner(spec: .biasQ(q: -0.1), seed: 1) }?.hasPrefix("q: ") == true)
        #expect(message { _ = try Partitioner(spec: .biasQ(q: 1.01), seed: 1) }?.hasPrefix("q: ") == true)
        #expect(message { _ = try Partitioner(spec: .shards(shardsPerClient: 0), seed: 1) }?.hasPrefix("shardsPerClient: ") == true)

        let iid = try Partitioner(spec: .iid, seed: 1)
        #expect(message { _ = try iid.partition(labels: labels, clients: 0) } == "clients: must be at least 1, got 0")
        #expect(
            message { _ = try iid.partition(labels: [1, 2, 3], clients: 4) }
                == "clients: 4 clients cannot each get a sample from 3 samples")
        #expect(message { _ = try iid.partition(labels: [1, 2, 3], clients: 1, among: [0, 3]) } == "pool: index 3 is outside 0..<3")
        #expect(message { _ = try iid.partition(labels: [1, 2, 3], clients: 1, among: [1, 1]) } == "pool: index 1 appears twice")
        #expect(message { _ = try iid.partition(labels: [1, 2, 3], clients: 1, classCount: 3) } == "labels: label 3 is not a class 0..<3")
        #expect(message { _ = try iid.partition(labels: [1, -2, 3], clients: 1) } == "labels: label -2 is negative")
        #expect(
            message { _ = try Partitioner(spec: .shards(shardsPerClient: 2), seed: 1).partition(labels: labels, clients: 100, among: Array(100..<12_000)) }
                == "shardsPerClient: 11900 samples do not split into 100 clients x 2 shards of equal size; "
                + "choose counts whose product divides the 11900 samples left after the root set")
        #expect(
            message { _ = try Partitioner(spec: .biasQ(q: 0.5), seed: 1).partition(labels: labels, clients: 9) }
                == "clients: bias-q makes one group per class: 10 classes need at least 10 clients, got 9")
    }
}
