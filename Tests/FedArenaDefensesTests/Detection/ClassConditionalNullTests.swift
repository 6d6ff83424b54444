import Testing

@testable import FedArenaDefenses

@Suite struct ClassConditionalNullTests {
    @Test func momentsPooledFallbackAndZByHand() {
        // Class 0 held out [1, 3]: μ 2, σ² ((−1)² + 1²) / 1 = 2, m 2. Class 1 has one value, so it
        // takes the pooled [1, 3, 5]: μ 3, σ² (4 + 0 + 4) / 2 = 4, m 3.
        let null = ClassConditionalNull(held: [[1, 3], [5]], varianceFloor: 0.01)
        #expect(null.mean == [2, 3] && null.variance == [2, 4] && null.counts == [2, 3])
        // One sample of each class, 4 and 7: excess (4 − 2) + (7 − 3) = 6; variance
        // 1·2 + 1·2/2 + 1·4 + 1·4/3 = 25/3; z = 6 / √(25/3) = 6 √3 / 5.
        #expect(abs(null.z([4, 7], labels: [0, 1]) - 6 * 3.0.squareRoot() / 5) < 1e-12)
        // The floor lifts a small variance: class 0's 2 becomes 3.
        #expect(ClassConditionalNull(held: [[1, 3], [5]], varianceFloor: 3).variance == [3, 4])
    }
}
