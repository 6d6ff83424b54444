import FedArenaNumerics
import Foundation
import Testing

@Suite struct RandomFourierFeaturesTests {
    @Test func approximatesTheGaussianKernel() {
        // D = 8192: the error of φ(x)·φ(y) is O(1/√D) ≈ 0.016 per pair.
        let map = RandomFourierFeatures(seed: 7, inputDimension: 3, dimension: 8192, bandwidth: 1.5)
        let points: [[Float]] = [[0, 0, 0], [1, 0, 0], [0.5, -1, 0.3], [2, 1, -1], [0.1, 0.1, 0.1]]
        let phi = map.transform(points.flatMap { $0 }, rows: points.count)
        var worst = 0.0
        for i in points.indices {
            for j in points.indices {
                let approx = VectorMath.dot(Array(phi[(i * 8192)..<((i + 1) * 8192)]), Array(phi[(j * 8192)..<((j + 1) * 8192)]))
                worst = max(worst, abs(approx - map.kernel(points[i], points[j])))
            }
        }
        #expect(worst < 0.06)
    }

    @Test func sameSeedSameMapOtherSeedOtherMap() {
        let a = RandomFourierFeatures(seed: 42, inputDimension: 4, dimension: 16, bandwidth: 2)
        let b = RandomFourierFeatures(seed: 42, inputDimension: 4, dimension: 16, bandwidth: 2)
        let c = RandomFourierFeatures(seed: 43, inputDimension: 4, dimension: 16, bandwidth: 2)
        #expect(a == b)
        #expect(a.frequencies != c.frequencies)
        let x: [Float] = [0.1, 0.2, 0.3, 0.4, 1, 0, 0, 1]
        #expect(a.transform(x, rows: 2) == b.transform(x, rows: 2))
    }

    @Test func featuresAreBoundedByTheAmplitude() {
        let map = RandomFourierFeatures(seed: 1, inputDimension: 2, dimension: 32, bandwidth: 0.5)
        let phi = map.transform([3, -2, 0, 0, 10, 10], rows: 3)
        #expect(phi.count == 96)
        #expect(phi.allSatisfy { abs($0) <= map.amplitude + 1e-6 })
        #expect(map.phases.allSatisfy { $0 >= 0 && $0 < 2 * Float.pi + 1e-5 })
    }
}
