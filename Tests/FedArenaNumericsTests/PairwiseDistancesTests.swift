import FedArenaNumerics
import Testing

@Suite struct PairwiseDistancesTests {
    let rows: [[Float]] = [[0, 0, 0], [3, 4, 0], [1, 1, 1], [-1, 0, 2]]

    @Test(arguments: [1, 2, 3, nil])
    func gramMatchesDotProducts(blockColumns: Int?) {
        let gram = Statistics.withRows(rows, columns: 3) { PairwiseDistances.gramMatrix($0, blockColumns: blockColumns) }
        for i in 0..<4 {
            for j in 0..<4 {
                let dot = zip(rows[i], rows[j]).map { $0 * $1 }.reduce(0, +)
                #expect(gram[i * 4 + j] == dot)
            }
        }
    }

    @Test func distancesAndCosines() {
        let pairs = Statistics.withRows(rows, columns: 3) { PairwiseDistances($0) }
        #expect(pairs.squaredDistance(0, 1) == 25)
        #expect(pairs.squaredDistance(1, 2) == 4 + 9 + 1)
        #expect(pairs.squaredDistance(2, 2) == 0)
        #expect(pairs.squaredNorms == [0, 25, 3, 5])
        #expect(pairs.cosine(0, 1) == 0)  // zero norm
        #expect(abs(pairs.cosine(1, 2) - 7 / (5 * Float(3).squareRoot())) < 1e-6)
        let matrix = pairs.squaredDistances
        #expect(matrix[1 * 4 + 3] == matrix[3 * 4 + 1] && matrix[1 * 4 + 3] == 16 + 16 + 4)
        #expect(pairs.cosineDistances[0] == 0)
        #expect(pairs.normsAreFinite && pairs.firstNonFiniteRow == nil)
    }

    @Test func nearlyEqualRowsClampAtZero() {
        let close: [[Float]] = [[1e4, 1e4 + 1e-3], [1e4, 1e4 + 2e-3]]
        let pairs = Statistics.withRows(close, columns: 2) { PairwiseDistances($0) }
        #expect(pairs.squaredDistance(0, 1) >= 0)
    }

    @Test func nonFiniteRowShowsInTheNorms() {
        let bad: [[Float]] = [[1, 2], [.nan, 0], [1, 1]]
        let pairs = Statistics.withRows(bad, columns: 2) { PairwiseDistances($0) }
        #expect(pairs.firstNonFiniteRow == 1)
    }
}
