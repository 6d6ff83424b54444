import FedArenaNumerics
import Testing

/// Reference: a full sort.
private func sortedColumn(_ rows: [[Float]], _ column: Int) -> [Float] { rows.map { $0[column] }.sorted() }

private func randomRows(_ n: Int, _ d: Int, seed: UInt64, ties: Bool = false) -> [[Float]] {
    var rng = SeededGenerator(seed: seed)
    return (0..<n).map { _ in (0..<d).map { _ in ties ? Float(rng.uniform(below: 4)) : Float(rng.normal()) } }
}

@Suite struct SelectionTests {
    @Test(arguments: [0, 1, 2, 3, 5, 8, 13, 16, 31, 100, 101])
    func sortingNetworkSorts(count: Int) {
        let network = SortingNetwork(count: count)
        var rng = SeededGenerator(seed: UInt64(count))
        for _ in 0..<20 {
            var values = (0..<count).map { _ in Float(rng.uniform(below: 7)) }
            let expected = values.sorted()
            values.withUnsafeMutableBufferPointer { if let base = $0.baseAddress { network.apply(to: base, stride: 1, width: 1) } }
            #expect(values == expected)
        }
        #expect(network.steps.allSatisfy { $0.a < $0.b && Int($0.b) < count })
    }

    @Test func networkSizesMatchBatcher() {
        #expect(SortingNetwork(count: 8).steps.count == 19)
        #expect(SortingNetwork(count: 16).steps.count == 63)
        #expect(SortingNetwork(count: 100).steps.count == 1104)
    }

    @Test(arguments: [(10, 3), (100, 20), (60, 20), (7, 0)])
    func groupPruningKeepsGroupSums(count: Int, trim: Int) {
        let full = SortingNetwork(count: count)
        let pruned = full.pruned { $0 < trim ? 0 : ($0 < count - trim ? 1 : 2) }
        #expect(pruned.steps.count <= full.steps.count)
        var rng = SeededGenerator(seed: 5)
        for _ in 0..<20 {
            var values = (0..<count).map { _ in Float(rng.normal()) }
            let expected = values.sorted()
            values.withUnsafeMutableBufferPointer { pruned.apply(to: $0.baseAddress!, stride: 1, width: 1) }
            #expect(Set(values[trim..<(count - trim)]) == Set(expected[trim..<(count - trim)]))
        }
    }

    @Test func exactPruningKeepsTheMedian() {
        let pruned = SortingNetwork(count: 25).pruned(exact: [12])
        #expect(pruned.steps.count < SortingNetwork(count: 25).steps.count)
        var rng = SeededGenerator(seed: 9)
        for _ in 0..<20 {
            var values = (0..<25).map { _ in Float(rng.normal()) }
            let expected = values.sorted()[12]
            values.withUnsafeMutableBufferPointer { pruned.apply(to: $0.baseAddress!, stride: 1, width: 1) }
            #expect(values[12] == expected)
        }
    }

    @Test(arguments: [1, 2, 17, 18, 40, 200])
    func quickselectFindsEveryRank(count: Int) {
        var rng = SeededGenerator(seed: UInt64(count))
        let values = (0..<count).map { _ in Float(rng.uniform(below: 10)) }
        let sorted = values.sorted()
        for k in 0..<count {
            var copy = values
            copy.withUnsafeMutableBufferPointer { Selection.select($0.baseAddress!, range: 0..<count, k: k) }
            #expect(copy[k] == sorted[k])
            #expect(copy[..<k].allSatisfy { $0 <= copy[k] } && copy[(k + 1)...].allSatisfy { $0 >= copy[k] })
        }
        #expect(Selection.kthSmallest(values, 0) == sorted[0])
    }

    @Test func medianOfFewValues() {
        #expect(Selection.median([3, 1, 2] as [Float]) == 2)
        #expect(Selection.median([4, 1, 3, 2] as [Float]) == 2.5)
        #expect(Selection.median([7] as [Float]) == 7)
        #expect(Selection.median([3.0, 1, 2, 10]) == 2.5)
        #expect(Selection.median([Double]()) == nil)
        // NaN is ignored, not sorted somewhere arbitrary.
        #expect(Selection.median([.nan, 5, 1, .nan, 3]) == 3)
        #expect(Selection.median([Double.nan]) == nil)
    }

    /// Both code paths (sorting network for n ≤ 160, quickselect above), tails of blocks
    /// (d = 13 is not a multiple of 8), with and without ties.
    @Test(arguments: [1, 2, 3, 4, 9, 10, 33, 161], [CoordinateWise.Method.network, .quickselect])
    func coordinateWiseMatchesSorting(count n: Int, method: CoordinateWise.Method) {
        let d = 13
        for ties in [false, true] {
            let rows = randomRows(n, d, seed: UInt64(n), ties: ties)
            let trim = n / 4
            let keep = max(1, n - 2 * trim - 2 * trim)
            let (median, trimmed, around) = Statistics.withRows(rows, columns: d) { r in
                (CoordinateWise.median(r, method: method), CoordinateWise.trimmedMean(r, trim: trim, method: method),
                 CoordinateWise.meanAroundMedian(r, keep: keep, method: method))
            }
            for j in 0..<d {
                let column = sortedColumn(rows, j)
                let expectedMedian = n % 2 == 1 ? column[n / 2] : 0.5 * column[n / 2 - 1] + 0.5 * column[n / 2]
                #expect(abs(median.values[j] - expectedMedian) <= 1e-6)
                let middle = column[trim..<(n - trim)]
                #expect(abs(trimmed.values[j] - middle.reduce(0, +) / Float(middle.count)) <= 1e-5)
                // The `keep` values closest to the median, lower window on ties.
                var best = 0
                var bestSpread = Float.infinity
                for s in 0...(n - keep) {
                    let spread = max(expectedMedian - column[s], column[s + keep - 1] - expectedMedian)
                    if spread < bestSpread { bestSpread = spread; best = s }
                }
                let window = column[best..<(best + keep)]
                #expect(abs(around.values[j] - window.reduce(0, +) / Float(keep)) <= 1e-5)
            }
            #expect(abs(median.usage.reduce(0, +) - (n % 2 == 1 ? 1 : 2)) < 1e-9)
            #expect(abs(trimmed.usage.reduce(0, +) - Double(n - 2 * trim)) < 1e-9)
            #expect(abs(around.usage.reduce(0, +) - Double(keep)) < 1e-9)
            #expect(median.nonFiniteRow == nil)
        }
    }

    @Test func automaticSwitchesToQuickselectForLargeRounds() {
        let rows = randomRows(CoordinateWise.networkLimit + 1, 3, seed: 2)
        let (automatic, quick) = Statistics.withRows(rows, columns: 3) { (CoordinateWise.median($0), CoordinateWise.median($0, method: .quickselect)) }
        #expect(automatic == quick)
    }

    @Test func usageSharesTiesFractionally() {
        // Column 0: values 1, 5, 5, 9 -> median 5 from two rows holding 5 (each used once).
        // Column 1: values 2, 2, 2, 2 -> both middle ranks shared by four rows: 0.5 each.
        let rows: [[Float]] = [[1, 2], [5, 2], [5, 2], [9, 2]]
        let summary = Statistics.withRows(rows, columns: 2) { CoordinateWise.median($0) }
        #expect(summary.values == [5, 2])
        #expect(summary.usage == [0.25, 0.75, 0.75, 0.25])
    }

    @Test func trimmedUsageCountsKeptValues() {
        let rows: [[Float]] = [[1, 40], [2, 30], [3, 20], [100, 10]]
        let summary = Statistics.withRows(rows, columns: 2) { CoordinateWise.trimmedMean($0, trim: 1) }
        #expect(summary.values == [2.5, 25])
        #expect(summary.usage == [0, 1, 1, 0])
    }

    @Test func nonFiniteRowsAreReported() {
        var rows = randomRows(5, 20, seed: 1)
        rows[3][17] = .nan
        let summary = Statistics.withRows(rows, columns: 20) { CoordinateWise.median($0) }
        #expect(summary.nonFiniteRow == 3)
        rows[3][17] = 0
        rows[1][2] = -.infinity
        #expect(Statistics.withRows(rows, columns: 20) { CoordinateWise.trimmedMean($0, trim: 1) }.nonFiniteRow == 1)
    }
}
