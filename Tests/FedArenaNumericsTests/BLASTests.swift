import FedArenaNumerics
import Testing

@Suite struct BLASTests {
    static func random(_ count: Int, stream: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: 11, stream: [stream])
        return (0..<count).map { _ in Float(generator.unitDouble() * 2 - 1) }
    }

    /// `alpha * op(A) * op(B) + beta * C` with plain loops, in Double.
    static func naiveGemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: [Float], b: [Float],
        beta: Float, c: [Float]
    ) -> [Float] {
        var result = c
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    let av = transposeA ? a[p * m + i] : a[i * k + p]
                    let bv = transposeB ? b[j * k + p] : b[p * n + j]
                    sum += Double(av) * Double(bv)
                }
                result[i * n + j] = Float(Double(alpha) * sum + Double(beta) * Double(c[i * n + j]))
            }
        }
        return result
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func sgemmMatchesNaiveLoops(transposeA: Bool, transposeB: Bool) {
        let (m, n, k) = (5, 4, 7)
        let a = Self.random(m * k, stream: 1)
        let b = Self.random(k * n, stream: 2)
        let c = Self.random(m * n, stream: 3)
        let expected = Self.naiveGemm(
            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 0.75, a: a, b: b, beta: -0.5, c: c)
        var result = c
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                result.withUnsafeMutableBufferPointer { pc in
                    BLAS.sgemm(
                        transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 0.75,
                        a: pa.baseAddress!, b: pb.baseAddress!, beta: -0.5, c: pc.baseAddress!)
                }
            }
        }
        for (x, y) in zip(result, expected) { #expect(abs(x - y) < 1e-5) }
    }

    @Test func matmulAndGramMatchNaiveLoops() {
        let a = Self.random(3 * 6, stream: 4)
        let b = Self.random(6 * 2, stream: 5)
        let product = BLAS.matmul(a, b, m: 3, k: 6, n: 2)
        let expected = Self.naiveGemm(
            transposeA: false, transposeB: false, m: 3, n: 2, k: 6, alpha: 1, a: a, b: b, beta: 0,
            c: [Float](repeating: 0, count: 6))
        for (x, y) in zip(product, expected) { #expect(abs(x - y) < 1e-5) }

        let gram = BLAS.gram(a, rows: 3, columns: 6)
        for i in 0..<3 {
            for j in 0..<3 {
                var dot = 0.0
                for p in 0..<6 { dot += Double(a[i * 6 + p]) * Double(a[j * 6 + p]) }
                #expect(abs(Double(gram[i * 3 + j]) - dot) < 1e-5)
                #expect(gram[i * 3 + j] == gram[j * 3 + i])
            }
        }
        #expect(BLAS.gram([], rows: 0, columns: 4).isEmpty)
    }

    @Test func levelOneAndGemv() {
        var y: [Float] = [1, 1, 1]
        let x: [Float] = [1, 2, 3]
        x.withUnsafeBufferPointer { px in
            y.withUnsafeMutableBufferPointer { py in
                BLAS.saxpy(count: 3, alpha: 2, x: px.baseAddress!, y: py.baseAddress!)
            }
        }
        #expect(y == [3, 5, 7])
        let dot = x.withUnsafeBufferPointer { px in y.withUnsafeBufferPointer { BLAS.sdot(count: 3, x: px.baseAddress!, y: $0.baseAddress!) } }
        #expect(dot == 34)
        #expect([Float](arrayLiteral: 3, 4).withUnsafeBufferPointer { BLAS.snrm2(count: 2, x: $0.baseAddress!) } == 5)
        y.withUnsafeMutableBufferPointer { BLAS.sscal(count: 3, alpha: -1, x: $0.baseAddress!) }
        #expect(y == [-3, -5, -7])

        // A = [[1, 2, 3], [4, 5, 6]]
        let a: [Float] = [1, 2, 3, 4, 5, 6]
        var out2: [Float] = [0, 0]
        var out3: [Float] = [0, 0, 0]
        a.withUnsafeBufferPointer { pa in
            x.withUnsafeBufferPointer { px in
                out2.withUnsafeMutableBufferPointer {
                    BLAS.sgemv(rows: 2, columns: 3, a: pa.baseAddress!, x: px.baseAddress!, y: $0.baseAddress!)
                }
                out3.withUnsafeMutableBufferPointer {
                    BLAS.sgemv(transpose: true, rows: 2, columns: 3, a: pa.baseAddress!, x: px.baseAddress!, y: $0.baseAddress!)
                }
            }
        }
        #expect(out2 == [14, 32])
        #expect(out3 == [9, 12, 15])  // Aᵀ [1, 2] (the first two values of x)
    }
}
