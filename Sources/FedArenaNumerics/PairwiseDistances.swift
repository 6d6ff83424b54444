import COpenBLAS

/// All pairwise distances of `n` rows from one Gram matrix `G = X Xᵀ`:
/// `‖a − b‖² = ‖a‖² + ‖b‖² − 2 a·b` (clamped at 0) and `cos(a, b) = a·b / (‖a‖ ‖b‖)`.
///
/// The Gram matrix comes from OpenBLAS `ssyrk` (half the work of `sgemm`, like numpy's
/// `X @ X.T`), run over blocks of columns that are copied from the separate row arrays into
/// one cache-sized buffer and accumulated (`beta = 1`), so the rows are never packed whole.
/// Accumulation is float32, as in numpy; the subtraction loses relative precision for nearly
/// equal rows, which is why distances are clamped at 0.
public struct PairwiseDistances: Sendable {
    /// The number of rows `n`.
    public let count: Int
    /// `G = X Xᵀ`, `n × n`, row-major, symmetric.
    public let gram: [Float]

    /// Computes the Gram matrix of `rows`.
    /// - Parameter rows: `n` rows of `d` values.
    public init(_ rows: RowPointers) {
        count = rows.count
        gram = PairwiseDistances.gramMatrix(rows)
    }

    /// Wraps an existing Gram matrix.
    /// - Precondition: `gram.count == count * count`.
    public init(gram: [Float], count: Int) {
        precondition(gram.count == count * count, "PairwiseDistances: gram must be \(count) x \(count)")
        self.count = count
        self.gram = gram
    }

    /// The squared norm of row `i` (`G[i][i]`).
    @inlinable public func squaredNorm(_ i: Int) -> Float { gram[i * count + i] }

    /// The squared norms of all rows.
    public var squaredNorms: [Float] { (0..<count).map(squaredNorm) }

    /// Whether every squared norm is finite: false when a row holds NaN or infinity, or is so
    /// large that its squared norm overflows float32.
    public var normsAreFinite: Bool { (0..<count).allSatisfy { squaredNorm($0).isFinite } }

    /// The first row whose squared norm is not finite, or `nil`.
    public var firstNonFiniteRow: Int? { (0..<count).first { !squaredNorm($0).isFinite } }

    /// `‖x_i − x_j‖²`, clamped at 0.
    @inlinable public func squaredDistance(_ i: Int, _ j: Int) -> Float {
        if i == j { return 0 }
        return max(0, gram[i * count + i] + gram[j * count + j] - 2 * gram[i * count + j])
    }

    /// The `n × n` matrix of squared Euclidean distances (row-major, zero diagonal).
    public var squaredDistances: [Float] {
        var result = [Float](repeating: 0, count: count * count)
        for i in 0..<count {
            for j in 0..<count { result[i * count + j] = squaredDistance(i, j) }
        }
        return result
    }

    /// The cosine similarity of rows `i` and `j` (0 when either has zero norm), in [−1, 1].
    @inlinable public func cosine(_ i: Int, _ j: Int) -> Float {
        let denominator = (gram[i * count + i] * gram[j * count + j]).squareRoot()
        guard denominator > 0 else { return 0 }
        return min(1, max(-1, gram[i * count + j] / denominator))
    }

    /// The `n × n` matrix of cosine distances `1 − cos` (row-major, zero diagonal).
    public var cosineDistances: [Float] {
        var result = [Float](repeating: 0, count: count * count)
        for i in 0..<count {
            for j in 0..<count where j != i { result[i * count + j] = 1 - cosine(i, j) }
        }
        return result
    }

    /// `X Xᵀ` for rows held in separate arrays, by blocked `ssyrk`/`sgemm`.
    ///
    /// Columns are copied block by block into a cache-sized buffer. Rows may be split into
    /// groups of `rowBlock`: diagonal groups go through `ssyrk` and off-diagonal pairs
    /// through `sgemm`, so only the upper triangle of group pairs is computed. Measured at
    /// n = 100, d = 79,510 on the 2-core AVX-512 machine, splitting gained nothing over one
    /// `ssyrk` per block (smaller calls run further from peak), so the default is one group.
    /// - Parameters:
    ///   - rows: the rows.
    ///   - blockColumns: columns copied per pass (default: about 1 MiB of rows).
    ///   - rowBlock: rows per group (default: all rows, one `ssyrk`).
    public static func gramMatrix(_ rows: RowPointers, blockColumns: Int? = nil, rowBlock: Int? = nil) -> [Float] {
        let n = rows.count
        let d = rows.columns
        var gram = [Float](repeating: 0, count: n * n)
        guard n > 0, d > 0 else { return gram }
        let width = min(d, max(1, blockColumns ?? max(1024, (1 << 18) / n)))
        let group = max(1, min(n, rowBlock ?? n))
        var block = [Float](repeating: 0, count: n * width)
        block.withUnsafeMutableBufferPointer { blockBuffer in
            gram.withUnsafeMutableBufferPointer { gramBuffer in
                let blk = blockBuffer.baseAddress!
                let g = gramBuffer.baseAddress!
                var start = 0
                while start < d {
                    let w = min(width, d - start)
                    rows.copyBlock(start: start, width: w, into: blk)
                    let beta: Float = start == 0 ? 0 : 1
                    var i0 = 0
                    while i0 < n {
                        let rowsI = min(group, n - i0)
                        cblas_ssyrk(
                            CblasRowMajor, CblasUpper, CblasNoTrans, blasint(rowsI), blasint(w), 1, blk + i0 * w, blasint(w),
                            beta, g + i0 * n + i0, blasint(n))
                        var j0 = i0 + rowsI
                        while j0 < n {
                            let rowsJ = min(group, n - j0)
                            BLAS.sgemm(
                                transposeB: true, m: rowsI, n: rowsJ, k: w, a: blk + i0 * w, lda: w, b: blk + j0 * w, ldb: w,
                                beta: beta, c: g + i0 * n + j0, ldc: n)
                            j0 += rowsJ
                        }
                        i0 += rowsI
                    }
                    start += w
                }
                // Mirror the upper triangle.
                for i in 0..<n {
                    for j in 0..<i { g[i * n + j] = g[j * n + i] }
                }
            }
        }
        return gram
    }
}
