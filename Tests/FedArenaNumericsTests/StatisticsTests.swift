import FedArenaNumerics
import Testing

@Suite struct StatisticsTests {
    @Test(arguments: [0, 3, 7, 8, 20, 33])
    func allFiniteFindsNaNAndInfinityAnywhere(position: Int) {
        var values = [Float](repeating: 1.5, count: 34)
        #expect(Statistics.allFinite(values))
        for bad in [Float.nan, .infinity, -.infinity] {
            values[position] = bad
            #expect(!Statistics.allFinite(values))
            values.withUnsafeBufferPointer { #expect(Statistics.firstNonFinite($0) == position) }
            values[position] = 1.5
        }
    }

    @Test func reductions() {
        let a: [Float] = (0..<37).map { Float($0) }
        let b: [Float] = (0..<37).map { Float(2 * $0 + 1) }
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                let dot = (0..<37).reduce(0.0) { $0 + Double($1) * Double(2 * $1 + 1) }
                #expect(Statistics.dot(pa.baseAddress!, pb.baseAddress!, count: 37) == dot)
                let distance = (0..<37).reduce(0.0) { $0 + Double(($1 + 1) * ($1 + 1)) }
                #expect(Statistics.squaredDistance(pa.baseAddress!, pb.baseAddress!, count: 37) == distance)
                #expect(Statistics.cosine(pa.baseAddress!, pa.baseAddress!, count: 37) == 1)
            }
        }
        #expect(Statistics.squaredNorm([3, 4]) == 25)
    }

    @Test func linearCombinationAndMeans() {
        let rows: [[Float]] = [[1, 2, 3], [10, 20, 30], [100, 200, 300], [0, 0, 1], [5, 5, 5]]
        let combined = Statistics.withRows(rows, columns: 3) {
            Statistics.linearCombination($0, coefficients: [1, 0.5, 0, 2, 1], base: [1, 1, 1])
        }
        let expected: [Float] = [12, 18, 26]
        #expect(combined == expected)
        let mean = Statistics.withRows(rows, columns: 3) { Statistics.weightedMean($0, weights: [1, 1, 0, 0, 0]) }
        #expect(mean == [5.5, 11, 16.5])
    }

    @Test func mixMatchesLinearCombinations() {
        var rng = SeededGenerator(seed: 3)
        let rows = (0..<5).map { _ in (0..<11).map { _ in Float(rng.normal()) } }
        let mixing: [Float] = (0..<15).map { _ in Float(rng.uniform(below: 4)) / 4 }
        let mixed = Statistics.withRows(rows, columns: 11) { Statistics.mix($0, mixing: mixing, outputs: 3) }
        for o in 0..<3 {
            let expected = Statistics.withRows(rows, columns: 11) {
                Statistics.linearCombination($0, coefficients: Array(mixing[(o * 5)..<(o * 5 + 5)]))
            }
            #expect(zip(mixed[o], expected).allSatisfy { abs($0 - $1) < 1e-5 })
        }
    }

    @Test func withRowsPassesThroughTypedErrors() {
        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try Statistics.withRows([[1], [2]], columns: 1) { (_: RowPointers) throws(Stop) -> Int in throw Stop() }
        }
        let count = Statistics.withRows([[1], [2], [3]], columns: 1) { $0.count }
        #expect(count == 3)
    }
}

@Suite struct RowPointersDepthTests {
    /// `withRows` nests one closure per row: make sure thousands of rows fit the stack of a
    /// test thread (debug build, the deepest frames).
    @Test func thousandsOfRows() {
        let rows = (0..<5_000).map { [Float($0)] }
        let total = Statistics.withRows(rows, columns: 1) { r in (0..<r.count).reduce(Float(0)) { $0 + r[$1][0] } }
        #expect(total == Float(4_999 * 5_000 / 2))
    }
}

@Suite struct CopyBlockTests {
    @Test(arguments: [(3, 5), (8, 16), (11, 37), (17, 64)])
    func copiesEveryRowAndColumn(rows n: Int, columns d: Int) {
        let rows = (0..<n).map { r in (0..<d).map { Float(r * 1000 + $0) } }
        for (start, width) in [(0, d), (1, d - 1), (d / 2, d - d / 2), (0, 0)] {
            var block = [Float](repeating: -1, count: max(1, n * width))
            Statistics.withRows(rows, columns: d) { r in block.withUnsafeMutableBufferPointer { r.copyBlock(start: start, width: width, into: $0.baseAddress!) } }
            for r in 0..<n { for c in 0..<width { #expect(block[r * width + c] == rows[r][start + c]) } }
        }
    }
}
