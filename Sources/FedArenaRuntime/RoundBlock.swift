import FedArenaCore

/// Where the coordinator keeps a round's updates while they arrive: one block of
/// `selected × d` floats allocated when the round starts, one row per selected client in
/// ascending order; each accepted delta is copied into its client's row once and its array
/// released, so the round never holds per-client arrays and a second block side by side.
///
/// ``take()`` packs the rows that arrived to the front of the same block (in ascending client
/// order, the order every rule reads) and hands it over as ``RoundUpdates`` without copying:
/// the pipeline sees exactly the block ``UpdateMatrix/init(_:for:)`` would have built.
struct RoundBlock {
    /// The round.
    let round: Int
    /// The row length `d`.
    let dimension: Int
    /// The selected clients, ascending: row `i` of the block belongs to `clients[i]`.
    private let clients: [ClientID]
    private let slot: [ClientID: Int]
    private var values: [Float]
    private var received: [(sampleCount: Int, details: RoundUpdates.Details)?]
    /// How many updates were stored.
    private(set) var count = 0

    /// Allocates the block for a round.
    /// - Parameters:
    ///   - round: The round.
    ///   - selected: The clients asked to train (any order, each once).
    ///   - dimension: `d`.
    init(round: Int, selected: [ClientID], dimension: Int) {
        self.round = round
        self.dimension = dimension
        let sorted = selected.sorted()
        clients = sorted
        slot = Dictionary(uniqueKeysWithValues: sorted.enumerated().map { ($0.element, $0.offset) })
        values = [Float](repeating: 0, count: sorted.count * dimension)
        received = Array(repeating: nil, count: sorted.count)
    }

    /// Whether `client` has a row in this round (it was selected).
    func hasRow(for client: ClientID) -> Bool { slot[client] != nil }

    /// Whether an update of `client` was stored.
    func contains(_ client: ClientID) -> Bool { slot[client].map { received[$0] != nil } ?? false }

    /// The reported training loss of a stored update.
    func trainLoss(of client: ClientID) -> Double? { slot[client].flatMap { received[$0]?.details.trainLoss } }

    /// Copies `update`'s delta into its client's row and keeps the rest beside it.
    /// - Precondition: the client was selected, has no stored update, and the delta has `d` values
    ///   (the coordinator checks all three before).
    mutating func store(_ update: ClientUpdate) {
        guard let row = slot[update.client] else { preconditionFailure("RoundBlock: \(update.client) was not selected in round \(round)") }
        precondition(received[row] == nil, "RoundBlock: \(update.client) stored twice")
        precondition(update.delta.count == dimension, "RoundBlock: \(update.client) has \(update.delta.count) values, not \(dimension)")
        let width = dimension
        values.withUnsafeMutableBufferPointer { block in
            update.delta.values.withUnsafeBufferPointer { source in
                guard width > 0 else { return }
                (block.baseAddress! + row * width).update(from: source.baseAddress!, count: width)
            }
        }
        received[row] = (update.sampleCount, RoundUpdates.Details(
            trainLoss: update.trainLoss, sketch: update.sketch, auditSamples: update.auditSamples, commitment: update.commitment))
        count += 1
    }

    /// Hands over the stored rows, packed to the front of the block in client order (no copy
    /// of the block), and leaves this block empty.
    mutating func take() -> RoundUpdates {
        var kept = [ClientID]()
        var sampleCounts = [Int]()
        var details = [RoundUpdates.Details]()
        let width = dimension
        values.withUnsafeMutableBufferPointer { block in
            for row in clients.indices {
                guard let entry = received[row] else { continue }
                let target = kept.count
                if target != row, width > 0 {
                    // target < row: moving a later row down never overwrites a row still to move.
                    (block.baseAddress! + target * width).update(from: block.baseAddress! + row * width, count: width)
                }
                kept.append(clients[row])
                sampleCounts.append(entry.sampleCount)
                details.append(entry.details)
            }
        }
        values.removeLast((clients.count - kept.count) * width)
        var block = [Float]()
        swap(&block, &values)
        received = Array(repeating: nil, count: clients.count)
        count = 0
        do {
            let matrix = try UpdateMatrix(values: block, dimension: width, clients: kept, sampleCounts: sampleCounts, round: round)
            return RoundUpdates(matrix: matrix, details: details)
        } catch {
            preconditionFailure("RoundBlock: rows are ascending and sized by construction: \(error)")
        }
    }
}
