import FedArenaNumerics
import Testing

@Suite struct VectorMathTests {
    /// Deterministic pseudo-random values in [-1, 1).
    static func values(_ count: Int, stream: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: 7, stream: [stream])
        return (0..<count).map { _ in Float(generator.unitDouble() * 2 - 1) }
    }

    @Test func axpyScaleAddSubtract() {
        var y: [Float] = [1, 2, 3]
        VectorMath.axpy(2, [1, -1, 0.5], into: &y)
        #expect(y == [3, 0, 4])
        VectorMath.scale(&y, by: 0.5)
        #expect(y == [1.5, 0, 2])
        VectorMath.add([1, 1, 1], into: &y)
        #expect(y == [2.5, 1, 3])
        VectorMath.subtract([0.5, 1, 3], from: &y)
        #expect(y == [2, 0, 0])
        #expect(VectorMath.difference([5, 3, 1], [1, 1, 1]) == [4, 2, 0])
    }

    @Test(arguments: [0, 1, 7, 8, 9, 513, 1037])
    func reductionsMatchDoubleLoops(count: Int) {
        let x = Self.values(count, stream: 1)
        let y = Self.values(count, stream: 2)
        var sum = 0.0, squares = 0.0, dot = 0.0, distance = 0.0
        for i in 0..<count {
            let a = Double(x[i]), b = Double(y[i])
            sum += a
            squares += a * a
            dot += a * b
            distance += (a - b) * (a - b)
        }
        let tolerance = 1e-5 * Double(max(count, 1))
        #expect(abs(x.withUnsafeBufferPointer { VectorMath.sum($0) } - sum) <= tolerance)
        #expect(abs(VectorMath.sumOfSquares(x) - squares) <= tolerance)
        #expect(abs(VectorMath.dot(x, y) - dot) <= tolerance)
        #expect(abs(VectorMath.squaredDistance(x, y) - distance) <= tolerance)
    }

    @Test func sumOfSquaresOfKnownVector() {
        #expect(VectorMath.sumOfSquares([3, 4]) == 25)
        #expect(VectorMath.sumOfSquares([Float](repeating: 1, count: 100_000)) == 100_000)
    }

    @Test func argmaxTakesFirstOfTiesAndSkipsNaN() {
        #expect(VectorMath.argmax([1, 3, 3, 2]) == 1)
        #expect(VectorMath.argmax([-5]) == 0)
        #expect(VectorMath.argmax([.nan, 1, 2, 2]) == 2)
        #expect(VectorMath.argmax([-1, .nan, -0.5]) == 2)
        #expect(VectorMath.argmax([Float.nan, .nan]) == 0)
    }
}
