import FedArenaReports

/// The refused messages of one round, bounded: the first ``RoundMetrics/keptRejections`` are
/// kept with their reasons, every one is counted by kind, so no peer can grow the
/// coordinator's memory, logs or records without bound however much it sends.
struct RejectionLog: Sendable, Equatable {
    /// The class of a rejection, the key of `rejected_by_reason`.
    enum Kind: String, Sendable {
        case undecodable
        case unexpected = "unexpected-message"
        case unknownPeer = "unknown-peer"
        case refusedHello = "refused-hello"
        case futureRound = "future-round"
        case notHosted = "not-hosted"
        case duplicate
        case notSelected = "not-selected"
        case content = "invalid-update"
        case overBudget = "over-budget"
        case replay = "wrong-nonce"
    }

    /// The first rejections with their reasons.
    private(set) var kept: [RejectionRecord] = []
    /// Every rejection, by kind.
    private(set) var byKind: [String: Int] = [:]
    /// All rejections.
    private(set) var count = 0

    /// Rejections counted but not kept (nor logged one by one).
    var suppressed: Int { count - kept.count }

    /// Counts a rejection and keeps it while there is room.
    /// - Returns: whether it was kept (and should be logged).
    mutating func add(_ rejection: RejectionRecord, kind: Kind, keep: Bool = true) -> Bool {
        count += 1
        byKind[kind.rawValue, default: 0] += 1
        guard keep, kept.count < RoundMetrics.keptRejections else { return false }
        kept.append(rejection)
        return true
    }

    /// Adds another log's rejections (kept ones while there is room).
    mutating func absorb(_ other: RejectionLog) {
        count += other.count
        for (kind, number) in other.byKind { byKind[kind, default: 0] += number }
        kept += other.kept.prefix(max(0, RoundMetrics.keptRejections - kept.count))
    }
}
