import FedArenaNumerics
import Testing

@Suite struct FractionalCountTests {
    /// `0.29 × 100 = 28.999999999999996` and `0.07 × 100 = 7.000000000000001` in binary64
    /// (python3: `0.29*100`, `0.07*100`); the decimal products are 29 and 7.
    @Test func decimalProductsAreExact() {
        #expect(0.29 * 100.0 < 29)
        #expect(FractionalCount.floor(0.29, of: 100) == 29)
        #expect(0.07 * 100.0 > 7)
        #expect(FractionalCount.ceiling(0.07, of: 100) == 7)
        #expect(FractionalCount.floor(0.57, of: 100) == 57)
        #expect(FractionalCount.floor(1 - 0.93, of: 100) == 7)
    }

    @Test(arguments: [
        (0.1, 10, 1, 1), (0.2, 7, 1, 2), (0.5, 3, 1, 2), (0.333, 3, 0, 1), (0.25, 0, 0, 0), (1.0, 9, 9, 9), (0.0, 5, 0, 0),
        (0.1234567, 10, 1, 2),
    ])
    func fractionalProducts(fraction: Double, n: Int, floor: Int, ceiling: Int) {
        #expect(FractionalCount.floor(fraction, of: n) == floor)
        #expect(FractionalCount.ceiling(fraction, of: n) == ceiling)
    }
}
