import FedArenaCore
import FedArenaNumerics

/// Krum's scores and Bulyan's repeated Krum, shared by ``Krum``, ``MultiKrum`` and ``Bulyan``.
enum KrumScoring {
    /// The Gram-matrix distances of the batch; throws `.nonFinite` when a row's squared norm is
    /// not finite (NaN or infinity in the row, or a norm beyond float32).
    static func distances(_ batch: UpdateBatch, rule: String) throws(AggregationError) -> PairwiseDistances {
        let distances = batch.withRows { PairwiseDistances($0) }
        if let row = distances.firstNonFiniteRow { throw batch.nonFiniteError(rule: rule, suspect: batch.updates[row].delta.isFinite ? nil : row) }
        return distances
    }

    /// `score(i)` = the sum of the squared distances from `i` to its `k` nearest other rows.
    static func scores(_ distances: PairwiseDistances, neighbours k: Int) -> [Double] {
        let n = distances.count
        var scores = [Double](repeating: 0, count: n)
        guard k > 0 else { return scores }
        var scratch = [Float](repeating: 0, count: max(n - 1, 1))
        scratch.withUnsafeMutableBufferPointer { buffer in
            let p = buffer.baseAddress!
            for i in 0..<n {
                var m = 0
                for j in 0..<n where j != i {
                    p[m] = distances.squaredDistance(i, j)
                    m += 1
                }
                if k < m { Selection.select(p, range: 0..<m, k: k - 1) }
                var sum = 0.0
                for position in 0..<min(k, m) { sum += Double(p[position]) }
                scores[i] = sum
            }
        }
        return scores
    }

    /// The indices of the `count` lowest scores, lowest first (ties: lower index first).
    static func lowest(_ scores: [Double], count: Int) -> [Int] {
        Array(scores.indices.sorted { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }.prefix(count))
    }

    /// Bulyan's selection: `count` times, run Krum (with `f`) on the rows not yet selected and
    /// move the winner to the selection. Incremental: each row keeps its neighbours sorted, and
    /// removing the winner while `k` drops by one either removes the winner from a row's
    /// nearest set or drops that set's farthest member, so each round costs `O(n)`.
    static func repeatedKrum(_ distances: PairwiseDistances, f: Int, count: Int) -> [Int] {
        let n = distances.count
        precondition(count <= n, "repeatedKrum: cannot select \(count) of \(n)")
        if f == 0 || n - f - 2 <= 0 {
            // k ≤ 0 from the start: every score is 0 and Krum picks by index.
            return Array(0..<count)
        }
        // order[i]: the other rows by (distance, index); position[i][j]: j's place in order[i].
        var order = [[Int32]](repeating: [], count: n)
        var position = [Int32](repeating: 0, count: n * n)
        for i in 0..<n {
            var others = (0..<n).filter { $0 != i }.map { (Int32($0), distances.squaredDistance(i, $0)) }
            others.sort { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }
            order[i] = others.map(\.0)
            for (place, j) in order[i].enumerated() { position[i * n + Int(j)] = Int32(place) }
        }
        var k = n - f - 2
        var end = [Int](repeating: k, count: n)
        var scores = (0..<n).map { i in order[i].prefix(k).reduce(0.0) { $0 + Double(distances.squaredDistance(i, Int($1))) } }
        var removed = [Bool](repeating: false, count: n)
        var selection = [Int]()
        while selection.count < count {
            var winner = -1
            for i in 0..<n where !removed[i] {
                if winner < 0 || scores[i] < scores[winner] { winner = i }
            }
            selection.append(winner)
            removed[winner] = true
            guard selection.count < count else { break }
            k -= 1
            for i in 0..<n where !removed[i] {
                if Int(position[i * n + winner]) < end[i] {
                    scores[i] -= Double(distances.squaredDistance(i, winner))
                } else if k >= 0 {
                    // Drop the farthest member still in the set.
                    var e = end[i] - 1
                    while e >= 0 && removed[Int(order[i][e])] { e -= 1 }
                    if e >= 0 {
                        scores[i] -= Double(distances.squaredDistance(i, Int(order[i][e])))
                        end[i] = e
                    }
                }
            }
        }
        return selection
    }
}
