import FedArenaCore
import FedArenaNumerics
import Foundation

/// Update similarity: sybils that run one generator (or one crafted attack) send near-identical
/// updates, FoolsGold-style (Fung, Yoon and Beschastnikh 2020, "The Limitations of Federated
/// Learning in Sybil Settings", RAID), and a client that suddenly turns away from its own past
/// or from the round's majority is suspicious too.
///
/// Per client `i`, with `H_i` the running sum of its updates (FoolsGold's history, this round
/// included) and `H_i⁻` the history before this round:
/// - `max_history_cosine = max_{j≠i} cos(H_i, H_j)` (FoolsGold's `v_i`); a value at or above
///   `sybil_cosine` (default 0.99) scores at least 0.95 on its own;
/// - `median_cosine = cos(Δ_i, median_j Δ_j)` with the coordinate-wise median of the round
///   (a sign-flipped or boosted-away update points against the majority);
/// - `self_cosine = cos(Δ_i, H_i⁻)` (skipped in a client's first round).
/// Each is standardised across the round with ``RobustZ`` (floor 0.05), oriented so that larger
/// is worse (`max_history_cosine`, `−median_cosine`, `−self_cosine`), and the largest `z` goes
/// through ``RobustZ/suspicion(_:center:width:)``.
///
/// Memory: `update-similarity.history.<client index>` (the running sums), returned in
/// ``DetectionOutput/memory``. YAML: `{kind: update-similarity, sybil_cosine: 0.99, z_center: 3, z_width: 1}`.
public struct UpdateSimilarity: Detector {
    /// The history cosine treated as a sybil pair outright.
    public var sybilCosine: Double
    /// The `z` mapped to 0.5.
    public var zCenter: Double
    /// The logistic width.
    public var zWidth: Double

    /// Creates the detector.
    /// - Throws: ``DetectionError`` unless `sybilCosine` is in (0, 1] and `zWidth > 0`.
    public init(sybilCosine: Double = 0.99, zCenter: Double = 3, zWidth: Double = 1) throws(DetectionError) {
        guard sybilCosine > 0, sybilCosine <= 1 else { throw DetectionError("update-similarity needs 0 < sybil_cosine <= 1, got \(sybilCosine)") }
        guard zWidth.isFinite, zWidth > 0, zCenter.isFinite else { throw DetectionError("update-similarity needs z_width > 0, got \(zWidth)") }
        self.sybilCosine = sybilCosine
        self.zCenter = zCenter
        self.zWidth = zWidth
    }

    /// `update-similarity`.
    public var name: String { "update-similarity" }

    /// The memory key of a client's history.
    public static func historyKey(_ client: ClientID) -> String { "update-similarity.history.\(client.rawValue)" }

    public func detect(_ updates: [ClientUpdate], context: DetectionContext, using rng: inout some RandomNumberGenerator) throws(DetectionError) -> DetectionOutput {
        guard let dimension = updates.first?.delta.count else { return DetectionOutput(suspicions: [:]) }
        var memory = context.memory
        var histories = [[Float]]()
        var selfCosine = [Double]()
        for update in updates {
            guard update.delta.count == dimension else {
                throw DetectionError("update-similarity: \(update.client) sent \(update.delta.count) values, expected \(dimension)")
            }
            let key = Self.historyKey(update.client)
            var history = update.delta.values
            if let old = memory.vectors[key], old.count == dimension {
                selfCosine.append(RootAudit.cosine(update.delta.values, old.values))
                VectorMath.add(old.values, into: &history)
            } else {
                selfCosine.append(.nan)
            }
            memory.vectors[key] = ParameterVector(history)
            histories.append(history)
        }
        let n = updates.count
        let gram = Statistics.withRows(histories, columns: dimension) { PairwiseDistances($0, products: .cosines) }
        var maxCosine = [Double](repeating: .nan, count: n)
        var partner = [Int](repeating: -1, count: n)
        for i in 0..<n {
            for j in 0..<n where j != i {
                let value = Double(gram.cosine(i, j))
                if maxCosine[i].isNaN || value > maxCosine[i] { maxCosine[i] = value; partner[i] = j }
            }
        }
        let deltas = updates.map(\.delta.values)
        let median = Statistics.withRows(deltas, columns: dimension) { CoordinateWise.median($0).values }
        let medianCosine = deltas.map { RootAudit.cosine($0, median) }

        let zMax = RobustZ.scores(maxCosine, minimumScale: 0.05)
        let zMedian = RobustZ.scores(medianCosine.map { -$0 }, minimumScale: 0.05)
        let known = selfCosine.filter { !$0.isNaN }
        let zSelf = known.count >= 3 ? RobustZ.scores(selfCosine.map { -$0 }, minimumScale: 0.05) : selfCosine.map { _ in Double.nan }
        var suspicions = [ClientID: Suspicion]()
        for (i, update) in updates.enumerated() {
            var features: [String: Double] = ["median_cosine": medianCosine[i], "z_median": zMedian[i]]
            if !maxCosine[i].isNaN { features["max_history_cosine"] = maxCosine[i]; features["z_max_history"] = zMax[i] }
            if !selfCosine[i].isNaN { features["self_cosine"] = selfCosine[i]; features["z_self"] = zSelf[i] }
            let partnerName = partner[i] >= 0 ? " with \(updates[partner[i]].client)" : ""
            let candidates: [(z: Double, text: String)] = [
                (zMax[i], "history cosine \(ReasonFormat.number(maxCosine[i]))\(partnerName)"),
                (zMedian[i], "cosine to the round's median update \(ReasonFormat.number(medianCosine[i]))"),
                (zSelf[i], "cosine to its own history \(ReasonFormat.number(selfCosine[i]))"),
            ]
            let best = candidates.filter { !$0.z.isNaN }.max { $0.z < $1.z } ?? (0, "no comparison (single client)")
            var score = RobustZ.suspicion(best.z, center: zCenter, width: zWidth)
            var reason = "\(best.text) (robust z \(ReasonFormat.number(best.z, 2)))"
            if !maxCosine[i].isNaN, maxCosine[i] >= sybilCosine {
                score = max(score, 0.95)
                let sybil = "history cosine \(ReasonFormat.number(maxCosine[i]))\(partnerName) ≥ \(sybilCosine) (sybil pair)"
                reason = best.text.hasPrefix("history cosine") ? sybil : "\(sybil); \(reason)"
            }
            suspicions[update.client] = Suspicion(score: score, reason: reason, features: features)
        }
        return DetectionOutput(suspicions: suspicions, memory: memory)
    }
}
