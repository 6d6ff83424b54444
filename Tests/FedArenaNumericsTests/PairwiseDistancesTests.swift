import FedArenaNumerics
import Testing

@Suite struct PairwiseDistancesTests {
    let rows: [[Float]] = [[0, 0, 0], [3, 4, 0], [1, 1, 1], [-1, 0, 2]]

    /// `Σ (Double(a_k) − Double(b_k))²`: the plain float64 reference, independent of the code
    /// under test.
    static func reference(_ a: [Float], _ b: [Float]) -> Double {
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                var sum = 0.0
                for k in 0..<pa.count {
                    let t = Double(pa[k]) - Double(pb[k])
                    sum += t * t
                }
                return sum
            }
        }
    }

    @Test(arguments: [nil, 1, 2, 16], [PairwiseDistances.Precision.single, .double])
    func distancesNormsAndCosines(blockColumns: Int?, precision: PairwiseDistances.Precision) {
        let pairs = Statistics.withRows(rows, columns: 3) {
            PairwiseDistances($0, products: .cosines, precision: precision, blockColumns: blockColumns)
        }
        #expect(pairs.squaredDistance(0, 1) == 25)
        #expect(pairs.squaredDistance(1, 2) == 4 + 9 + 1)
        #expect(pairs.squaredDistance(2, 2) == 0)
        #expect(pairs.squaredDistance(1, 3) == pairs.squaredDistance(3, 1) && pairs.squaredDistance(1, 3) == 16 + 16 + 4)
        #expect(pairs.squaredNorms == [0, 25, 3, 5])
        #expect(pairs.cosine(0, 1) == 0)  // zero norm
        #expect(pairs.cosineDistance(0, 1) == 1)
        // cos([3,4,0], [1,1,1]) = 7 / (5 √3)
        #expect(abs(pairs.cosine(1, 2) - 7 / (5 * 3.0.squareRoot())) < 1e-12)
        #expect(abs(pairs.dot(1, 3) - (-3)) < 1e-12)
        #expect(pairs.nonFiniteRow == nil && !pairs.overflows)
    }

    /// The failure: ‖a‖² + ‖b‖² − 2a·b in float32 cancels when the rows share a large
    /// component. Offsets 0.5, 5 and 50 on a spread of 0.01 must give the float64 distances to
    /// float32 accuracy of the *differences*.
    @Test(arguments: [Float(0.5), 5, 50], [PairwiseDistances.Precision.single, .double])
    func distancesDoNotDependOnACommonOffset(offset: Float, precision: PairwiseDistances.Precision) {
        let n = 8, d = 4_000
        var rng = SeededGenerator(seed: 11, stream: [UInt64(offset * 10)])
        let base = (0..<n).map { _ in (0..<d).map { _ in Float(0.01 * rng.normal()) } }
        let shifted = base.map { $0.map { $0 + offset } }
        let pairs = Statistics.withRows(shifted, columns: d) { PairwiseDistances($0, precision: precision, blockColumns: 1_000) }
        let tolerance = precision == .single ? 1e-5 : 1e-12
        for i in 0..<n {
            for j in 0..<n where j != i {
                let exact = Self.reference(shifted[i], shifted[j])
                #expect(abs(pairs.squaredDistance(i, j) - exact) <= tolerance * exact, "pair \(i), \(j)")
                #expect(abs(pairs.squaredDistance(i, j) - exact) <= pairs.errorBound(i, j), "bound of \(i), \(j)")
            }
        }
    }

    /// 1 − cos under a common offset: float64 of the same float32 rows is the reference.
    @Test func cosineDistanceIsAccurateUnderAnOffset() {
        let n = 6, d = 2_000
        var rng = SeededGenerator(seed: 12)
        let shifted = (0..<n).map { _ in (0..<d).map { _ in Float(5 + 0.01 * rng.normal()) } }
        let pairs = Statistics.withRows(shifted, columns: d) { PairwiseDistances($0, products: .cosines) }
        for i in 0..<n {
            for j in 0..<n where j != i {
                let (a, b) = (shifted[i], shifted[j])
                var dot = 0.0, na = 0.0, nb = 0.0
                for k in 0..<d {
                    dot += Double(a[k]) * Double(b[k])
                    na += Double(a[k]) * Double(a[k])
                    nb += Double(b[k]) * Double(b[k])
                }
                let exact = 1 - dot / (na * nb).squareRoot()  // ~4e-6; float64 keeps ~10 digits of it
                #expect(exact > 1e-7)
                #expect(abs(pairs.cosineDistance(i, j) - exact) <= 1e-4 * exact, "pair \(i), \(j)")
            }
        }
    }

    /// Near-duplicates (distance far below the rows' spread around their mean) are recomputed
    /// exactly, so their order is the float64 order.
    @Test func nearDuplicatesAreExact() {
        let d = 512
        var rng = SeededGenerator(seed: 13)
        let far = (0..<d).map { _ in Float(rng.normal()) }
        let a = (0..<d).map { _ in Float(3 + rng.normal()) }
        var b = a
        b[7] = b[7].nextUp  // one ulp apart
        var c = a
        c[7] = c[7].nextUp.nextUp
        let rows = [far, a, b, c]
        let pairs = Statistics.withRows(rows, columns: d) { PairwiseDistances($0) }
        #expect(pairs.isExact(1, 2) && pairs.isExact(1, 3) && pairs.isExact(2, 3))
        #expect(pairs.squaredDistance(1, 2) == Self.reference(a, b))
        #expect(pairs.squaredDistance(1, 3) == Self.reference(a, c))
        #expect(pairs.squaredDistance(1, 2) < pairs.squaredDistance(1, 3))
        #expect(pairs.squaredDistance(2, 3) == Self.reference(b, c))
    }

    @Test func identicalRowsAreExactlyZeroApart() {
        let row: [Float] = (0..<100).map { Float($0) * 0.37 + 1_000 }
        let pairs = Statistics.withRows([row, row, row.map { $0 + 1 }], columns: 100) { PairwiseDistances($0) }
        #expect(pairs.squaredDistance(0, 1) == 0 && pairs.isExact(0, 1))
        #expect(pairs.squaredDistance(0, 2) == pairs.squaredDistance(1, 2))
    }

    /// Several bit-identical rows (NNM's outputs often are) are exactly 0 apart, and a row that
    /// differs in one bit is not one of them.
    @Test func groupsOfIdenticalRowsAreExactlyZeroApart() {
        var rng = SeededGenerator(seed: 15)
        let row = (0..<300).map { _ in Float(2 + rng.normal()) }
        var other = row
        other[150] = other[150].nextUp
        let far = row.map { $0 + 1 }
        let rows = [row, far, row, row, other, row]
        let pairs = Statistics.withRows(rows, columns: 300) { PairwiseDistances($0) }
        for (i, j) in [(0, 2), (0, 3), (0, 5), (2, 3), (3, 5)] {
            #expect(pairs.squaredDistance(i, j) == 0 && pairs.isExact(i, j), "\(i), \(j)")
        }
        #expect(pairs.squaredDistance(0, 4) == Self.reference(row, other) && pairs.squaredDistance(0, 4) > 0)
    }

    /// Contiguous rows take one `ssyrk` in place when their common offset is small, the centred
    /// path otherwise. Rows [c + 1, c] and [c − 1, c]: mean (c, c), spread 2 (each row is 1 from
    /// the mean), offset energy n‖m‖² = 2 · 2c² = 4c², so in place iff 4c² ≤ 2 (c ≤ 1/√2). The
    /// squared distance is 4 either way, exactly (every product is exact in float32).
    @Test(arguments: [(Float(0), false), (0.5, false), (0.75, true), (1_000, true)])
    func inPlaceOnlyWhenTheOffsetIsSmall(offset c: Float, centred: Bool) {
        let block: [Float] = [c + 1, c, c - 1, c]
        block.withUnsafeBufferPointer { buffer in
            let rows = RowPointers(contiguous: buffer.baseAddress!, rows: 2, columns: 2)
            let pairs = PairwiseDistances(rows)
            #expect(pairs.isCentred == centred)
            #expect(pairs.squaredDistance(0, 1) == 4)
            let always = PairwiseDistances(rows, centring: .always)
            #expect(always.isCentred && always.squaredDistance(0, 1) == 4)
        }
        // Separate arrays are not one block: always centred.
        #expect(Statistics.withRows([[c + 1, c], [c - 1, c]], columns: 2) { PairwiseDistances($0).isCentred })
    }

    /// A NaN in a contiguous block is named as on the centred path (the in-place Gram matrix
    /// only sees a non-finite squared norm and hands over).
    @Test func nonFiniteRowOfABlockIsNamed() {
        let block: [Float] = [1, 2, 1, 1, 0, .nan]
        block.withUnsafeBufferPointer { buffer in
            let pairs = PairwiseDistances(RowPointers(contiguous: buffer.baseAddress!, rows: 3, columns: 2))
            #expect(pairs.nonFiniteRow == 2 && pairs.isCentred)
        }
    }

    @Test func refiningRowsMakesThemExact() {
        var rng = SeededGenerator(seed: 14)
        let rows = (0..<5).map { _ in (0..<300).map { _ in Float(rng.normal()) } }
        Statistics.withRows(rows, columns: 300) { pointers in
            var pairs = PairwiseDistances(pointers)
            #expect(!pairs.isExact(0, 1))
            pairs.refine(rows: [1, 3], using: pointers)
            for j in 0..<5 where j != 1 {
                let exact = Self.reference(rows[1], rows[j])
                #expect(pairs.isExact(1, j) && abs(pairs.squaredDistance(1, j) - exact) <= 1e-13 * exact)
            }
            #expect(pairs.isExact(3, 4) && !pairs.isExact(0, 2))
        }
    }

    @Test(arguments: [PairwiseDistances.Precision.single, .double])
    func nonFiniteRowIsNamed(precision: PairwiseDistances.Precision) {
        let bad: [[Float]] = [[1, 2], [.nan, 0], [1, 1]]
        let pairs = Statistics.withRows(bad, columns: 2) { PairwiseDistances($0, precision: precision) }
        #expect(pairs.nonFiniteRow == 1)
        let infinite: [[Float]] = [[1, 2], [1, 1], [0, -.infinity]]
        #expect(Statistics.withRows(infinite, columns: 2) { PairwiseDistances($0, precision: precision) }.nonFiniteRow == 2)
        // Finite values whose float32 column sum overflows are not "non-finite": single precision
        // reports the overflow, double precision has the range to compute them.
        let huge: [[Float]] = [[3e38, 0], [3e38, 0], [1, 1]]
        let overflowing = Statistics.withRows(huge, columns: 2) { PairwiseDistances($0, precision: precision) }
        #expect(overflowing.nonFiniteRow == nil && overflowing.overflows == (precision == .single))
        if precision == .double { #expect(overflowing.squaredDistance(0, 1) == 0) }
    }

    @Test func overflowIsReported() {
        let huge: [[Float]] = [[3e19, 0], [-3e19, 0], [0, 0]]
        let pairs = Statistics.withRows(huge, columns: 2) { PairwiseDistances($0) }
        #expect(pairs.nonFiniteRow == nil && pairs.overflows)
    }

    @Test func nearestIsTheFloat64Order() {
        // Row 0's neighbours 1 and 2 are equally far (a tie: the lower index first), 3 is
        // a hair farther, under an offset of 100.
        let d = 64
        var base = [Float](repeating: 100, count: d)
        base[0] = 100
        var one = base; one[1] += 0.5
        var two = base; two[2] += 0.5
        var three = base; three[3] += 0.5; three[4] = three[4].nextUp
        let far = base.map { $0 + 1 }
        let rows = [base, three, two, one, far]
        Statistics.withRows(rows, columns: d) { pointers in
            var pairs = PairwiseDistances(pointers)
            #expect(pairs.nearest(to: 0, count: 3, using: pointers) == [0, 2, 3])
            #expect(pairs.nearest(to: 0, count: 4, using: pointers) == [0, 2, 3, 1])
        }
    }
}
