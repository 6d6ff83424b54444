/// Order statistics: quickselect on one buffer, and data-oblivious sorting networks that
/// order many columns at once with SIMD `min`/`max`.
public enum Selection {
    /// Reorders `values[range]` so that position `k` holds the value a full sort would put
    /// there, everything before it is `<=` and everything after it `>=` (C++ `nth_element`).
    ///
    /// Quickselect (Hoare 1961) with a median-of-three pivot and insertion sort below 16
    /// values; expected `O(count)`. NaN must not occur (callers reject it first).
    /// - Parameters:
    ///   - values: the buffer.
    ///   - range: the positions to consider.
    ///   - k: the target position, inside `range`.
    @inlinable
    public static func select(_ values: UnsafeMutablePointer<Float>, range: Range<Int>, k: Int) {
        precondition(range.contains(k), "select: k = \(k) outside \(range)")
        var low = range.lowerBound
        var high = range.upperBound - 1
        while high - low > 16 {
            let middle = low + (high - low) / 2
            // Median of three, which also leaves sentinels at both ends.
            if values[middle] < values[low] { swapValues(values, middle, low) }
            if values[high] < values[low] { swapValues(values, high, low) }
            if values[high] < values[middle] { swapValues(values, high, middle) }
            let pivot = values[middle]
            var i = low
            var j = high
            while i <= j {
                while values[i] < pivot { i += 1 }
                while pivot < values[j] { j -= 1 }
                if i <= j {
                    swapValues(values, i, j)
                    i += 1
                    j -= 1
                }
            }
            if k <= j {
                high = j
            } else if k >= i {
                low = i
            } else {
                return
            }
        }
        insertionSort(values, range: low..<(high + 1))
    }

    @inlinable @inline(__always)
    static func swapValues(_ values: UnsafeMutablePointer<Float>, _ i: Int, _ j: Int) {
        let t = values[i]
        values[i] = values[j]
        values[j] = t
    }

    /// Sorts `values[range]` ascending by insertion (for short ranges).
    @inlinable
    public static func insertionSort(_ values: UnsafeMutablePointer<Float>, range: Range<Int>) {
        guard range.count > 1 else { return }
        for i in (range.lowerBound + 1)..<range.upperBound {
            let value = values[i]
            var j = i - 1
            while j >= range.lowerBound && value < values[j] {
                values[j + 1] = values[j]
                j -= 1
            }
            values[j + 1] = value
        }
    }

    /// The `k`-th smallest of `values` (0-based), by quickselect on a copy.
    public static func kthSmallest(_ values: [Float], _ k: Int) -> Float {
        var copy = values
        return copy.withUnsafeMutableBufferPointer { buffer in
            select(buffer.baseAddress!, range: 0..<buffer.count, k: k)
            return buffer[k]
        }
    }

    /// The median of `values`: the middle value, or the mean of the two middle values for an
    /// even count; NaN values are ignored. The one scalar median in FedArena (coordinate-wise
    /// medians of many rows go through ``CoordinateWise/median(_:method:)``).
    /// - Parameter values: the values.
    /// - Returns: the median, or `nil` when no value is a number.
    public static func median<T: BinaryFloatingPoint>(_ values: some Sequence<T>) -> T? {
        var sorted = values.filter { !$0.isNaN }
        guard !sorted.isEmpty else { return nil }
        sorted.sort()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : sorted[middle - 1] / 2 + sorted[middle] / 2
    }
}

/// A sorting network: a fixed list of compare-exchange steps `(a, b)`, `a < b`, after which
/// wire `a` holds the smaller and wire `b` the larger value (Batcher 1968, "Sorting networks
/// and their applications": odd-even merge sort, cut down to `count` wires).
///
/// Because the steps do not depend on the data, one network orders many columns at once with
/// vector `min`/`max`, which is what makes coordinate-wise median and trimmed mean fast.
/// ``pruned(exact:)`` and ``pruned(groups:)`` drop the steps that cannot change the outputs a
/// rule needs (only the middle for a median; only the three groups below, inside and above
/// the trimmed range for a trimmed mean).
public struct SortingNetwork: Sendable, Equatable {
    /// The number of wires (values per column).
    public let count: Int
    /// The compare-exchange steps, in order; `a < b` for each.
    public let steps: [(a: Int32, b: Int32)]

    /// The full sorting network on `count` wires.
    public init(count: Int) {
        precondition(count >= 0, "a network needs a non-negative size")
        self.count = count
        var padded = 1
        while padded < count { padded *= 2 }
        var steps = [(a: Int32, b: Int32)]()
        var p = 1
        while p < padded {
            var k = p
            while k >= 1 {
                var j = k % p
                while j < padded - k {
                    for i in 0..<min(k, padded - j - k) where (i + j) / (2 * p) == (i + j + k) / (2 * p) {
                        // A wire past `count` holds +infinity: its steps change nothing.
                        if i + j + k < count { steps.append((Int32(i + j), Int32(i + j + k))) }
                    }
                    j += 2 * k
                }
                k /= 2
            }
            p *= 2
        }
        self.steps = steps
    }

    private init(count: Int, steps: [(a: Int32, b: Int32)]) {
        self.count = count
        self.steps = steps
    }

    /// The network restricted to the steps that can change the values on `exact` wires.
    public func pruned(exact wires: Set<Int>) -> SortingNetwork {
        pruned { wires.contains($0) ? $0 : nil }
    }

    /// The network restricted to the steps that can change, for each group, the multiset of
    /// values that ends on its wires. `group(w)` names the group of output wire `w`, or `nil`
    /// when that output is not needed at all.
    ///
    /// Walking backwards, a step is dropped when both its wires are still untouched by any kept
    /// later step and belong to the same group (or to no group): it only permutes values
    /// inside a group, which leaves the group's multiset alone.
    public func pruned(groups group: (Int) -> Int?) -> SortingNetwork {
        // label[w] = .some(g): untouched since the end, output group g (Int.min = not needed);
        // nil = read by a kept later step.
        var label = (0..<count).map { Optional(group($0) ?? Int.min) }
        var kept = [(a: Int32, b: Int32)]()
        for step in steps.reversed() {
            let (a, b) = (Int(step.a), Int(step.b))
            if let la = label[a], let lb = label[b], la == lb { continue }
            kept.append(step)
            label[a] = nil
            label[b] = nil
        }
        return SortingNetwork(count: count, steps: kept.reversed())
    }

    public static func == (lhs: SortingNetwork, rhs: SortingNetwork) -> Bool {
        lhs.count == rhs.count && lhs.steps.count == rhs.steps.count
            && zip(lhs.steps, rhs.steps).allSatisfy { $0.a == $1.a && $0.b == $1.b }
    }

    /// Applies the network to `width` columns stored row-major in `block`
    /// (`block[wire * stride + column]`).
    @inlinable
    public func apply(to block: UnsafeMutablePointer<Float>, stride: Int, width: Int) {
        let vectorWidth = width & ~7
        let raw = UnsafeMutableRawPointer(block)
        for step in steps {
            let a = Int(step.a) * stride
            let b = Int(step.b) * stride
            var column = 0
            while column < vectorWidth {
                let offsetA = (a + column) * 4
                let offsetB = (b + column) * 4
                let x = raw.loadUnaligned(fromByteOffset: offsetA, as: SIMD8<Float>.self)
                let y = raw.loadUnaligned(fromByteOffset: offsetB, as: SIMD8<Float>.self)
                // `replacing(with:where:)` compiles to minps/maxps; `pointwiseMin` is a call.
                let less = y .< x
                raw.storeBytes(of: x.replacing(with: y, where: less), toByteOffset: offsetA, as: SIMD8<Float>.self)
                raw.storeBytes(of: y.replacing(with: x, where: less), toByteOffset: offsetB, as: SIMD8<Float>.self)
                column += 8
            }
            while column < width {
                let x = block[a + column]
                let y = block[b + column]
                block[a + column] = y < x ? y : x
                block[b + column] = y < x ? x : y
                column += 1
            }
        }
    }
}

/// Coordinate-wise robust statistics of `n` rows (Yin et al. 2018; El Mhamdi et al. 2018),
/// with, for each row, the share of coordinates at which its value was used.
///
/// The rows are read in blocks of columns gathered row-major into an L1-sized buffer
/// (`block[row * width + column]`). For `n <= networkLimit` a pruned ``SortingNetwork`` orders
/// every column of the block at once with vector `min`/`max` (data-oblivious, no branches);
/// above it each column is copied out and ordered by quickselect (``Selection/select(_:range:k:)``).
///
/// Usage shares: the value at rank `r` of a coordinate is "used" when `r` lies in the kept
/// range. Ties are resolved fractionally so the shares do not depend on client order: when
/// `t` rows hold a boundary value that fills `s` kept ranks, each of them is used `s / t`.
public enum CoordinateWise {
    /// A coordinate-wise statistic and how much each row contributed.
    public struct Summary: Sendable, Equatable {
        /// The statistic, one value per coordinate.
        public var values: [Float]
        /// For each row, the share of coordinates at which its value was used (fractional
        /// under ties); the shares add up to the number of kept ranks per coordinate.
        public var usage: [Double]
        /// The first row found holding NaN or infinity, or `nil`. When set, ``values`` and
        /// ``usage`` are meaningless (finiteness is checked while the rows are read anyway,
        /// which saves callers a pass over the data).
        public var nonFiniteRow: Int?
    }

    /// How columns are ordered.
    public enum Method: Sendable, Equatable {
        /// Sorting networks up to ``networkLimit`` rows, quickselect above.
        case automatic
        /// Always a pruned sorting network.
        case network
        /// Always quickselect (a sort for ``meanAroundMedian(_:keep:method:)``).
        case quickselect
    }

    /// The largest `n` ordered by sorting networks; larger rounds use quickselect. Measured
    /// on the 2-core AVX-512 machine (release, SSE2 code generation) at d = 79,510: the
    /// pruned network takes the median of n = 100 in about 15 ms where quickselect takes
    /// 130 ms (branch mispredictions on every partition step), and of n = 1,000 in 0.65 s
    /// where quickselect takes 1.2 s; the network's cost grows as n log² n, so very large
    /// rounds switch to quickselect.
    public static let networkLimit = 2048

    /// The coordinate-wise median (mean of the two middle values for even `n`).
    /// - Parameter rows: `n >= 1` rows without NaN.
    public static func median(_ rows: RowPointers, method: Method = .automatic) -> Summary {
        let n = rows.count
        return rankRangeMean(rows, ranks: n % 2 == 1 ? (n / 2)..<(n / 2 + 1) : (n / 2 - 1)..<(n / 2 + 1), method: method)
    }

    /// The coordinate-wise trimmed mean: drop the `trim` smallest and largest values of each
    /// coordinate and average the rest.
    /// - Precondition: `2 * trim < rows.count`.
    public static func trimmedMean(_ rows: RowPointers, trim: Int, method: Method = .automatic) -> Summary {
        precondition(trim >= 0 && 2 * trim < rows.count, "trimmedMean: cannot trim \(trim) from each side of \(rows.count)")
        return rankRangeMean(rows, ranks: trim..<(rows.count - trim), method: method)
    }

    /// The per-coordinate mean of the values at ranks `ranks` (0-based, ascending order).
    /// - Precondition: `ranks` is a non-empty part of `0..<rows.count`.
    public static func rankRangeMean(_ rows: RowPointers, ranks: Range<Int>, method: Method = .automatic) -> Summary {
        let n = rows.count
        precondition(!ranks.isEmpty && ranks.lowerBound >= 0 && ranks.upperBound <= n, "rankRangeMean: bad ranks \(ranks) for n = \(n)")
        return run(rows, plan: .rankRange(ranks), method: method)
    }

    /// Bulyan's second phase: for each coordinate, the mean of the `keep` values closest to the
    /// coordinate's median (El Mhamdi et al. 2018).
    /// - Precondition: `1 <= keep <= rows.count`.
    public static func meanAroundMedian(_ rows: RowPointers, keep: Int, method: Method = .automatic) -> Summary {
        precondition(keep >= 1 && keep <= rows.count, "meanAroundMedian: keep \(keep) of \(rows.count)")
        return run(rows, plan: .aroundMedian(keep), method: method)
    }

    private enum Plan {
        case rankRange(Range<Int>)
        case aroundMedian(Int)
    }

    private static func network(for plan: Plan, count n: Int) -> SortingNetwork {
        let full = SortingNetwork(count: n)
        switch plan {
        case .rankRange(let ranks):
            return full.pruned { $0 < ranks.lowerBound ? 0 : (ranks.contains($0) ? 1 : 2) }
        case .aroundMedian:
            return full
        }
    }

    private static func run(_ rows: RowPointers, plan: Plan, method: Method) -> Summary {
        let n = rows.count
        let d = rows.columns
        let useNetwork = method == .network || (method == .automatic && n <= networkLimit)
        let net = useNetwork ? network(for: plan, count: n) : SortingNetwork(count: 0)
        // About 24 KiB of block: stays in L1 while the network runs.
        let width = max(8, min(64, (6144 / max(n, 1)) / 8 * 8))
        var output = [Float](repeating: 0, count: d)
        var usage = [Double](repeating: 0, count: n)
        var block = [Float](repeating: 0, count: n * width)
        var column = [Float](repeating: 0, count: n)
        var low = [Float](repeating: 0, count: width)
        var high = [Float](repeating: 0, count: width)
        var start = [Int](repeating: 0, count: width)
        var inside = [Int32](repeating: 0, count: width)
        var rowCounts = [Int](repeating: 0, count: n)
        var badRow: Int?
        let kept: Int
        switch plan {
        case .rankRange(let ranks): kept = ranks.count
        case .aroundMedian(let keep): kept = keep
        }
        block.withUnsafeMutableBufferPointer { blockBuffer in
        column.withUnsafeMutableBufferPointer { columnBuffer in
        output.withUnsafeMutableBufferPointer { outBuffer in
        low.withUnsafeMutableBufferPointer { lowBuffer in
        high.withUnsafeMutableBufferPointer { highBuffer in
        inside.withUnsafeMutableBufferPointer { insideBuffer in
            let blk = blockBuffer.baseAddress!
            let col = columnBuffer.baseAddress!
            let out = outBuffer.baseAddress!
            let lo = lowBuffer.baseAddress!
            let hi = highBuffer.baseAddress!
            let ins = insideBuffer.baseAddress!
            var c0 = 0
            while c0 < d {
                let w = min(width, d - c0)
                rows.copyBlock(start: c0, width: w, into: blk)
                if !Statistics.allFinite(UnsafeBufferPointer(start: blk, count: n * w)) {
                    badRow = (0..<n).first { !Statistics.allFinite(UnsafeBufferPointer(start: blk + $0 * w, count: w)) }
                    return
                }
                if useNetwork {
                    net.apply(to: blk, stride: w, width: w)
                    switch plan {
                    case .rankRange(let ranks):
                        reduceSortedRange(blk, width: w, ranks: ranks, out: out + c0, lo: lo, hi: hi)
                        for c in 0..<w { start[c] = ranks.lowerBound }
                    case .aroundMedian(let keep):
                        for c in 0..<w {
                            for r in 0..<n { col[r] = blk[r * w + c] }
                            (out[c0 + c], lo[c], hi[c], start[c]) = windowAroundMedian(col, count: n, keep: keep)
                        }
                    }
                } else {
                    for c in 0..<w {
                        for r in 0..<n { col[r] = blk[r * w + c] }
                        switch plan {
                        case .rankRange(let ranks):
                            Selection.select(col, range: 0..<n, k: ranks.lowerBound)
                            if ranks.count > 1 {
                                Selection.select(col, range: (ranks.lowerBound + 1)..<n, k: ranks.upperBound - 1)
                            }
                            var sum: Float = 0
                            for r in ranks { sum += col[r] }
                            out[c0 + c] = sum / Float(ranks.count)
                            lo[c] = col[ranks.lowerBound]
                            hi[c] = col[ranks.upperBound - 1]
                            start[c] = ranks.lowerBound
                        case .aroundMedian(let keep):
                            var sortable = UnsafeMutableBufferPointer(start: col, count: n)
                            sortable.sort()
                            (out[c0 + c], lo[c], hi[c], start[c]) = windowAroundMedian(col, count: n, keep: keep)
                        }
                    }
                }
                // Usage: count, per row and per column, the values inside [lo, hi].
                countInside(rows: rows, start: c0, width: w, low: lo, high: hi, inside: ins, rowCounts: &rowCounts)
                // Columns where more values than kept ranks sit in [lo, hi] have ties at a
                // boundary: replace their whole-unit counts by fractional shares.
                for c in 0..<w where Int(ins[c]) != kept {
                    fixTies(rows: rows, column: c0 + c, low: lo[c], high: hi[c], ranks: start[c]..<(start[c] + kept), usage: &usage)
                }
                c0 += w
            }
        }}}}}}
        if let badRow { return Summary(values: output, usage: usage, nonFiniteRow: badRow) }
        let scale = 1 / Double(d)
        for r in 0..<n { usage[r] = (usage[r] + Double(rowCounts[r])) * scale }
        return Summary(values: output, usage: usage)
    }

    /// Counts, for each row and each column of a block, the values inside `[lo, hi]`.
    @inline(__always)
    private static func countInside(
        rows: RowPointers, start c0: Int, width w: Int, low lo: UnsafeMutablePointer<Float>,
        high hi: UnsafeMutablePointer<Float>, inside ins: UnsafeMutablePointer<Int32>, rowCounts: inout [Int]
    ) {
        let vectorWidth = w & ~7
        for c in 0..<w { ins[c] = 0 }
        let rawLow = UnsafeRawPointer(lo)
        let rawHigh = UnsafeRawPointer(hi)
        let rawInside = UnsafeMutableRawPointer(ins)
        for r in 0..<rows.count {
            let p = UnsafeRawPointer(rows[r] + c0)
            var total = SIMD8<Int32>()
            var c = 0
            while c < vectorWidth {
                let v = p.loadUnaligned(fromByteOffset: c * 4, as: SIMD8<Float>.self)
                let l = rawLow.loadUnaligned(fromByteOffset: c * 4, as: SIMD8<Float>.self)
                let h = rawHigh.loadUnaligned(fromByteOffset: c * 4, as: SIMD8<Float>.self)
                let hit = SIMD8<Int32>(repeating: 0).replacing(with: 1, where: (v .>= l) .& (v .<= h))
                total &+= hit
                let old = rawInside.loadUnaligned(fromByteOffset: c * 4, as: SIMD8<Int32>.self)
                rawInside.storeBytes(of: old &+ hit, toByteOffset: c * 4, as: SIMD8<Int32>.self)
                c += 8
            }
            var count = Int(total.wrappedSum())
            while c < w {
                let v = rows[r][c0 + c]
                if v >= lo[c] && v <= hi[c] {
                    ins[c] += 1
                    count += 1
                }
                c += 1
            }
            rowCounts[r] &+= count
        }
    }

    /// Sum, min and max of sorted-range wires `ranks` of a network-ordered block.
    @inline(__always)
    private static func reduceSortedRange(
        _ blk: UnsafeMutablePointer<Float>, width w: Int, ranks: Range<Int>, out: UnsafeMutablePointer<Float>,
        lo: UnsafeMutablePointer<Float>, hi: UnsafeMutablePointer<Float>
    ) {
        let first = blk + ranks.lowerBound * w
        for c in 0..<w {
            out[c] = first[c]
            lo[c] = first[c]
            hi[c] = first[c]
        }
        let vectorWidth = w & ~7
        let rawOut = UnsafeMutableRawPointer(out)
        let rawLow = UnsafeMutableRawPointer(lo)
        let rawHigh = UnsafeMutableRawPointer(hi)
        for r in (ranks.lowerBound + 1)..<ranks.upperBound {
            let p = blk + r * w
            let raw = UnsafeRawPointer(p)
            var c = 0
            while c < vectorWidth {
                let v = raw.loadUnaligned(fromByteOffset: c * 4, as: SIMD8<Float>.self)
                let sum = rawOut.loadUnaligned(fromByteOffset: c * 4, as: SIMD8<Float>.self)
                let l = rawLow.loadUnaligned(fromByteOffset: c * 4, as: SIMD8<Float>.self)
                let h = rawHigh.loadUnaligned(fromByteOffset: c * 4, as: SIMD8<Float>.self)
                rawOut.storeBytes(of: sum + v, toByteOffset: c * 4, as: SIMD8<Float>.self)
                rawLow.storeBytes(of: l.replacing(with: v, where: v .< l), toByteOffset: c * 4, as: SIMD8<Float>.self)
                rawHigh.storeBytes(of: h.replacing(with: v, where: h .< v), toByteOffset: c * 4, as: SIMD8<Float>.self)
                c += 8
            }
            while c < w {
                let v = p[c]
                out[c] += v
                lo[c] = v < lo[c] ? v : lo[c]
                hi[c] = hi[c] < v ? v : hi[c]
                c += 1
            }
        }
        let scale = 1 / Float(ranks.count)
        for c in 0..<w { out[c] *= scale }
    }

    /// On a sorted column: the mean of the `keep` values closest to the median, the window's
    /// smallest and largest value, and its first rank. Ties between windows go to the lower one.
    @inline(__always)
    private static func windowAroundMedian(_ sorted: UnsafeMutablePointer<Float>, count n: Int, keep: Int) -> (Float, Float, Float, Int) {
        let median = n % 2 == 1 ? sorted[n / 2] : 0.5 * sorted[n / 2 - 1] + 0.5 * sorted[n / 2]
        // The window of `keep` consecutive sorted values with the smallest largest distance
        // to the median holds the `keep` values closest to it.
        var best = 0
        var bestSpread = Float.infinity
        let first = max(0, (n - 1) / 2 - keep + 1)
        let last = min(n - keep, n / 2)
        for s in first...max(first, last) {
            let spread = max(median - sorted[s], sorted[s + keep - 1] - median)
            if spread < bestSpread {
                bestSpread = spread
                best = s
            }
        }
        var sum: Float = 0
        for r in best..<(best + keep) { sum += sorted[r] }
        return (sum / Float(keep), sorted[best], sorted[best + keep - 1], best)
    }

    /// Replaces the unit counts of column `column` (already added for every value in
    /// [low, high]) by exact fractional shares.
    private static func fixTies(rows: RowPointers, column: Int, low: Float, high: Float, ranks: Range<Int>, usage: inout [Double]) {
        let n = rows.count
        var lessLow = 0, equalLow = 0, lessHigh = 0, equalHigh = 0
        for r in 0..<n {
            let v = rows[r][column]
            if v < low { lessLow += 1 }
            if v == low { equalLow += 1 }
            if v < high { lessHigh += 1 }
            if v == high { equalHigh += 1 }
        }
        func slots(_ less: Int, _ equal: Int) -> Double {
            Double(max(0, min(ranks.upperBound, less + equal) - max(ranks.lowerBound, less)))
        }
        let shareLow = low == high ? Double(ranks.count) / Double(equalLow) : slots(lessLow, equalLow) / Double(equalLow)
        let shareHigh = low == high ? shareLow : slots(lessHigh, equalHigh) / Double(equalHigh)
        for r in 0..<n {
            let v = rows[r][column]
            if v == low {
                usage[r] += shareLow - 1
            } else if v == high {
                usage[r] += shareHigh - 1
            }
        }
    }
}
