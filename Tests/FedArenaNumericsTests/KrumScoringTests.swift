import FedArenaNumerics
import Testing

/// Plain float64 Krum, written independently of the code under test: distances as
/// `Σ (Double(a) − Double(b))²`, scores by sorting, ties to the lower index.
enum ReferenceKrum {
    static func distances(_ rows: [[Float]]) -> [[Double]] {
        rows.map { a in rows.map { b in PairwiseDistancesTests.reference(a, b) } }
    }

    static func scores(_ d: [[Double]], k: Int, active: [Int]) -> [Int: Double] {
        var result = [Int: Double]()
        for i in active {
            let others = active.filter { $0 != i }.map { d[i][$0] }.sorted()
            result[i] = others.prefix(max(k, 0)).reduce(0, +)
        }
        return result
    }

    static func lowest(_ d: [[Double]], k: Int, count: Int) -> [Int] {
        let s = scores(d, k: k, active: Array(d.indices))
        return Array(d.indices.sorted { (s[$0]!, $0) < (s[$1]!, $1) }.prefix(count))
    }

    /// Bulyan's selection, recomputed from scratch at every step.
    static func repeated(_ d: [[Double]], f: Int, count: Int) -> [Int] {
        var remaining = Array(d.indices)
        var selection = [Int]()
        while selection.count < count {
            let s = scores(d, k: remaining.count - f - 2, active: remaining)
            let winner = remaining.min { (s[$0]!, $0) < (s[$1]!, $1) }!
            selection.append(winner)
            remaining.removeAll { $0 == winner }
        }
        return selection
    }
}

@Suite struct KrumScoringTests {
    static func rows(n: Int, d: Int, offset: Float, seed: UInt64) -> [[Float]] {
        var rng = SeededGenerator(seed: seed)
        return (0..<n).map { i in (0..<d).map { _ in offset + Float((i % 3 == 0 ? 0.005 : 0.01) * rng.normal()) } }
    }

    @Test(arguments: [Float(0), 0.5, 5, 50])
    func selectionIsTheFloat64Selection(offset: Float) {
        let rows = Self.rows(n: 13, d: 3_000, offset: offset, seed: 3)
        let reference = ReferenceKrum.distances(rows)
        Statistics.withRows(rows, columns: 3_000) { pointers in
            for (k, count) in [(8, 1), (8, 9), (3, 4), (11, 2)] {
                var pairs = PairwiseDistances(pointers)
                #expect(KrumScoring.selectLowest(&pairs, rows: pointers, neighbours: k, count: count)
                    == ReferenceKrum.lowest(reference, k: k, count: count), "k = \(k), m = \(count)")
            }
            for f in [0, 1, 2] {
                var pairs = PairwiseDistances(pointers, precision: f == 2 ? .double : .single)
                let theta = 13 - 2 * f
                #expect(KrumScoring.repeatedSelection(&pairs, rows: pointers, f: f, count: theta)
                    == (f == 0 ? Array(0..<theta) : ReferenceKrum.repeated(reference, f: f, count: theta)), "f = \(f)")
            }
        }
    }

    /// The same kind of rows as one contiguous block (as rounds hand them to the rules): the
    /// in-place Gram matrix (small offsets: 0 and 0.001 against a spread of 0.005-0.01) and the
    /// centred one (0.5, 50) both give the float64 selection, and every distance lies within its
    /// bound of the float64 one.
    @Test(arguments: [Float(0), 0.001, 0.5, 50])
    func contiguousRowsGiveTheFloat64Selection(offset: Float) {
        let (n, d) = (13, 3_000)
        let rows = Self.rows(n: n, d: d, offset: offset, seed: 6)
        let reference = ReferenceKrum.distances(rows)
        let block = rows.flatMap { $0 }
        block.withUnsafeBufferPointer { buffer in
            let pointers = RowPointers(contiguous: buffer.baseAddress!, rows: n, columns: d)
            let plain = PairwiseDistances(pointers)
            #expect(plain.isCentred == (offset >= 0.5))
            for i in 0..<n {
                for j in 0..<n where j != i {
                    #expect(abs(plain.squaredDistance(i, j) - reference[i][j]) <= plain.errorBound(i, j), "pair \(i), \(j)")
                }
            }
            for (k, count) in [(8, 1), (8, 9), (3, 4), (11, 2)] {
                var pairs = PairwiseDistances(pointers)
                #expect(KrumScoring.selectLowest(&pairs, rows: pointers, neighbours: k, count: count)
                    == ReferenceKrum.lowest(reference, k: k, count: count), "k = \(k), m = \(count)")
            }
        }
    }

    /// Duplicated rows tie exactly: the lower index wins, however the Gram matrix rounded.
    @Test func exactTiesGoToTheLowerIndex() {
        var rows = Self.rows(n: 7, d: 200, offset: 20, seed: 4)
        rows[5] = rows[2]
        rows[6] = rows[2]
        let reference = ReferenceKrum.distances(rows)
        Statistics.withRows(rows, columns: 200) { pointers in
            var pairs = PairwiseDistances(pointers)
            let chosen = KrumScoring.selectLowest(&pairs, rows: pointers, neighbours: 3, count: 2)
            #expect(chosen == ReferenceKrum.lowest(reference, k: 3, count: 2))
            #expect(chosen == [2, 5])
        }
    }

    /// Two rows whose scores differ by one part in 10¹²: the bounds cannot separate them from
    /// the Gram matrix, so both are recomputed exactly and the float64 winner is returned.
    @Test func nearTiesAreSettledExactly() {
        let d = 256
        var rng = SeededGenerator(seed: 5)
        let centre = (0..<d).map { _ in Float(1 + rng.normal()) }
        var rows = (0..<6).map { _ in centre.map { $0 + Float(0.1 * rng.normal()) } }
        // Row 4 mirrors row 1 through the centre except one coordinate nudged by an ulp, so
        // their scores agree to ~1e-12.
        rows[4] = zip(centre, rows[1]).map { 2 * $0 - $1 }
        rows[4][9] = rows[4][9].nextUp
        let reference = ReferenceKrum.distances(rows)
        Statistics.withRows(rows, columns: d) { pointers in
            for count in 1...5 {
                var pairs = PairwiseDistances(pointers)
                #expect(KrumScoring.selectLowest(&pairs, rows: pointers, neighbours: 4, count: count) == ReferenceKrum.lowest(reference, k: 4, count: count))
            }
        }
    }

    @Test func scoresOfAnExactMatrix() {
        // Points 0, 1, 3, 10 on a line: squared distances by hand.
        let d: [Double] = [0, 1, 9, 100, 1, 0, 4, 81, 9, 4, 0, 49, 100, 81, 49, 0]
        let scores = KrumScoring.scores(squaredDistances: d, count: 4, neighbours: 2)
        #expect(scores.map(\.value) == [10, 5, 13, 130])
        #expect(scores.allSatisfy { $0.bound == 0 })
        #expect(KrumScoring.lowest(scores, count: 2) == [1, 0])
        #expect(KrumScoring.scores(squaredDistances: d, count: 4, neighbours: 0).map(\.value) == [0, 0, 0, 0])
        let active = [true, false, true, true]
        #expect(KrumScoring.scores(squaredDistances: d, count: 4, neighbours: 1, active: active).map(\.value) == [9, 0, 9, 49])
    }
}
