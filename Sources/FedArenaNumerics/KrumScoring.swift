/// Krum's scores and selections (Blanchard, El Mhamdi, Guerraoui and Stainer 2017, "Machine
/// Learning with Adversaries: Byzantine Tolerant Gradient Descent", NeurIPS), the one
/// implementation shared by the defender's Krum, Multi-Krum and Bulyan and by the attacker's
/// Fang-Krum, so that an attack that "makes Krum pick it" tests the rule that actually runs.
///
/// `score(i)` is the sum of the squared distances from row `i` to its `k` nearest other rows
/// (`k = n − f − 2` for Krum); the lowest score wins and ties go to the lower index.
///
/// ## Exact decisions
/// ``PairwiseDistances`` gives every distance with an error bound. For each score this type
/// also computes a bound (the score of the `k` smallest of values that may each be off by
/// `e_j` is off by at most the sum of the `k` largest `e_j` among the rows that could be among
/// the `k` nearest), and a selection whose winners and losers overlap within their bounds is
/// settled by recomputing the rows involved exactly (``PairwiseDistances/refine(rows:using:)``)
/// and scoring again. The selection is therefore the one a float64 computation of every
/// distance would make, with ties broken by index.
public enum KrumScoring {
    /// A score and the bound on its absolute error.
    public struct Score: Sendable, Equatable {
        /// The sum of the `k` smallest squared distances.
        public var value: Double
        /// The bound on the error of ``value`` (0 when it is exact).
        public var bound: Double
    }

    /// The Krum score of every row (0 for inactive rows and when `k ≤ 0`).
    /// - Parameters:
    ///   - squaredDistances: the `n × n` row-major squared distances.
    ///   - errorBounds: their absolute error bounds (`nil`: exact).
    ///   - count: `n`.
    ///   - neighbours: `k`.
    ///   - active: which rows take part (`nil`: all).
    /// - Returns: one score per row.
    public static func scores(
        squaredDistances: [Double], errorBounds: [Double]? = nil, count n: Int, neighbours k: Int, active: [Bool]? = nil
    ) -> [Score] {
        precondition(squaredDistances.count == n * n, "KrumScoring: the distance matrix must be \(n) x \(n)")
        return (0..<n).map { i in
            guard active?[i] ?? true else { return Score(value: 0, bound: 0) }
            return score(of: i, squaredDistances, errorBounds, n, k, active)
        }
    }

    /// The indices of the `count` lowest scores, lowest first; ties go to the lower index.
    /// - Parameters:
    ///   - scores: the scores.
    ///   - count: how many to return.
    ///   - active: which rows may be returned (`nil`: all).
    /// - Returns: the indices.
    public static func lowest(_ scores: [Score], count: Int, active: [Bool]? = nil) -> [Int] {
        let candidates = scores.indices.filter { active?[$0] ?? true }
        return Array(candidates.sorted { (scores[$0].value, $0) < (scores[$1].value, $1) }.prefix(count))
    }

    /// The `count` rows with the lowest Krum scores (lowest first, ties to the lower index),
    /// certified exact: comparisons that the error bounds leave open are recomputed exactly.
    /// - Parameters:
    ///   - distances: the rows' distances; refined in place where needed.
    ///   - rows: the rows they came from.
    ///   - k: the neighbours per score.
    ///   - count: how many rows to select (Krum: 1, Multi-Krum: `m`).
    /// - Returns: the selected indices.
    public static func selectLowest(_ distances: inout PairwiseDistances, rows: RowPointers, neighbours k: Int, count: Int) -> [Int] {
        let n = distances.count
        while true {
            let scored = scores(
                squaredDistances: distances.squaredDistanceMatrix, errorBounds: distances.errorBoundMatrix, count: n, neighbours: k)
            let order = (0..<n).sorted { (scored[$0].value, $0) < (scored[$1].value, $1) }
            let chosen = Array(order.prefix(count))
            let rest = Array(order.dropFirst(count))
            guard let high = chosen.map({ scored[$0].value + scored[$0].bound }).max(),
                  let low = rest.map({ scored[$0].value - scored[$0].bound }).min(), high >= low
            else { return chosen }
            let open = chosen.filter { scored[$0].bound > 0 && scored[$0].value + scored[$0].bound >= low }
                + rest.filter { scored[$0].bound > 0 && scored[$0].value - scored[$0].bound <= high }
            if open.isEmpty { return chosen }
            distances.refine(rows: open, using: rows)
        }
    }

    /// Bulyan's selection (El Mhamdi, Guerraoui and Rouault 2018): `count` times, run Krum (with
    /// `f`, so `k = |remaining| − f − 2`) on the rows not yet selected and move the winner to the
    /// selection; certified exact like ``selectLowest(_:rows:neighbours:count:)``.
    ///
    /// Incremental: each row keeps its neighbours sorted, and removing the winner while `k`
    /// drops by one either removes the winner from a row's nearest set or drops that set's
    /// farthest member, so each step costs `O(n)`. A step whose winner the bounds leave open
    /// refines the rows involved and starts the selection again.
    /// - Parameters:
    ///   - distances: the rows' distances; refined in place where needed.
    ///   - rows: the rows they came from.
    ///   - f: Bulyan's `f`.
    ///   - count: how many rows to select (`θ = n − 2f`).
    /// - Returns: the selected indices, in selection order.
    public static func repeatedSelection(_ distances: inout PairwiseDistances, rows: RowPointers, f: Int, count: Int) -> [Int] {
        precondition(count <= distances.count, "repeatedSelection: cannot select \(count) of \(distances.count)")
        while true {
            switch repeatedAttempt(distances, f: f, count: count) {
            case .selected(let selection): return selection
            case .refine(let open): distances.refine(rows: open, using: rows)
            }
        }
    }

    private enum Attempt {
        case selected([Int])
        case refine([Int])
    }

    private static func repeatedAttempt(_ distances: PairwiseDistances, f: Int, count: Int) -> Attempt {
        let n = distances.count
        if f == 0 || n - f - 2 <= 0 {
            // k ≤ 0 from the start: every score is 0 and Krum picks by index.
            return .selected(Array(0..<count))
        }
        let d = distances.squaredDistanceMatrix
        let e = distances.errorBoundMatrix
        // order[i]: the other rows by (distance, index); position[i][j]: j's place in order[i].
        var order = [[Int32]](repeating: [], count: n)
        var position = [Int32](repeating: 0, count: n * n)
        var rowMaxError = [Double](repeating: 0, count: n)
        for i in 0..<n {
            var others = (0..<n).filter { $0 != i }.map { (Int32($0), d[i * n + $0]) }
            others.sort { ($0.1, $0.0) < ($1.1, $1.0) }
            order[i] = others.map(\.0)
            for (place, j) in order[i].enumerated() { position[i * n + Int(j)] = Int32(place) }
            rowMaxError[i] = (0..<n).reduce(0) { max($0, e[i * n + $1]) }
        }
        var k = n - f - 2
        var end = [Int](repeating: k, count: n)
        var scores = (0..<n).map { i in order[i].prefix(k).reduce(0.0) { $0 + d[i * n + Int($1)] } }
        var removed = [Bool](repeating: false, count: n)
        var selection = [Int]()
        // The running scores lose up to n roundings of the largest one when members are
        // subtracted; rows that close to the winner are compared on exactly summed scores.
        let slack = 4 * Double(n) * 0x1.0p-52 * (scores.max() ?? 0)
        while selection.count < count {
            var winner = -1
            for i in 0..<n where !removed[i] {
                if winner < 0 || scores[i] < scores[winner] { winner = i }
            }
            if k <= 0 {
                // Every score is 0: Krum picks by index.
                winner = (0..<n).first { !removed[$0] }!
            } else {
                // Rows whose cheap bound (k times their largest error) reaches the winner's.
                let reach = scores[winner] + Double(k) * rowMaxError[winner] + slack
                let rivals = (0..<n).filter { !removed[$0] && $0 != winner && scores[$0] - Double(k) * rowMaxError[$0] - slack <= reach }
                if !rivals.isEmpty {
                    let active = removed.map { !$0 }
                    let contenders = [winner] + rivals
                    let precise = contenders.map { score(of: $0, d, e, n, k, active) }
                    let lowestUpper = precise.map { $0.value + $0.bound }.min()!
                    let possible = contenders.indices.filter { precise[$0].value - precise[$0].bound <= lowestUpper }
                    let open = possible.filter { precise[$0].bound > 0 }.map { contenders[$0] }
                    if !open.isEmpty, possible.count > 1 { return .refine(open) }
                    winner = possible.map { (precise[$0].value, contenders[$0]) }.min { $0 < $1 }!.1
                }
            }
            selection.append(winner)
            removed[winner] = true
            guard selection.count < count else { break }
            k -= 1
            for i in 0..<n where !removed[i] {
                if Int(position[i * n + winner]) < end[i] {
                    scores[i] -= d[i * n + winner]
                } else if k >= 0 {
                    // Drop the farthest member still in the set.
                    var last = end[i] - 1
                    while last >= 0 && removed[Int(order[i][last])] { last -= 1 }
                    if last >= 0 {
                        scores[i] -= d[i * n + Int(order[i][last])]
                        end[i] = last
                    }
                }
            }
        }
        return .selected(selection)
    }

    /// Row `i`'s score among the active rows and its error bound.
    private static func score(
        of i: Int, _ d: [Double], _ e: [Double]?, _ n: Int, _ k: Int, _ active: [Bool]?
    ) -> Score {
        guard k > 0 else { return Score(value: 0, bound: 0) }
        var others = [(distance: Double, error: Double, index: Int)]()
        others.reserveCapacity(n - 1)
        for j in 0..<n where j != i && (active?[j] ?? true) {
            others.append((d[i * n + j], e?[i * n + j] ?? 0, j))
        }
        others.sort { ($0.distance, $0.index) < ($1.distance, $1.index) }
        let nearest = others.prefix(k)
        let value = nearest.reduce(0.0) { $0 + $1.distance }
        guard let reach = nearest.map({ $0.distance + $0.error }).max() else { return Score(value: value, bound: 0) }
        // The true k nearest lie among the rows whose distance may be below `reach`.
        var possible = others.filter { $0.distance - $0.error <= reach }.map(\.error)
        possible.sort(by: >)
        let bound = possible.prefix(k).reduce(0, +)
        return Score(value: value, bound: bound)
    }
}

extension PairwiseDistances {
    /// The `count` rows nearest to row `i`, itself first, then by (distance, index); certified
    /// exact: pairs that the error bounds leave open at the boundary are recomputed exactly.
    /// - Parameters:
    ///   - i: the row.
    ///   - count: how many rows to return (itself included), `1...n`.
    ///   - rows: the rows the distances came from.
    /// - Returns: the indices.
    public mutating func nearest(to i: Int, count keep: Int, using rows: RowPointers) -> [Int] {
        precondition(keep >= 1 && keep <= count, "nearest: cannot keep \(keep) of \(count)")
        while true {
            let others = (0..<count).filter { $0 != i }.sorted { (squaredDistance(i, $0), $0) < (squaredDistance(i, $1), $1) }
            let chosen = Array(others.prefix(keep - 1))
            let rest = Array(others.dropFirst(keep - 1))
            guard let high = chosen.map({ squaredDistance(i, $0) + errorBound(i, $0) }).max(),
                  let low = rest.map({ squaredDistance(i, $0) - errorBound(i, $0) }).min(), high >= low
            else { return [i] + chosen }
            let open = chosen.filter { errorBound(i, $0) > 0 && squaredDistance(i, $0) + errorBound(i, $0) >= low }
                + rest.filter { errorBound(i, $0) > 0 && squaredDistance(i, $0) - errorBound(i, $0) <= high }
            if open.isEmpty { return [i] + chosen }
            refine(pairs: open.map { (i, $0) }, using: rows)
        }
    }
}
