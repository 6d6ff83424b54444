import COpenBLAS

/// Thin, typed wrappers over the OpenBLAS single-precision routines FedArena uses.
///
/// This is the only place that touches BLAS. All matrices are row-major; dimensions follow the
/// reference BLAS names (`C[m x n] = alpha * op(A)[m x k] * op(B)[k x n] + beta * C`).
public enum BLAS {
    /// `C = alpha * op(A) * op(B) + beta * C`, row-major.
    /// - Parameters:
    ///   - transposeA: use Aᵀ (A is stored `k x m`).
    ///   - transposeB: use Bᵀ (B is stored `n x k`).
    ///   - lda, ldb, ldc: leading dimensions; default to the packed row lengths.
    @inlinable
    public static func sgemm(
        transposeA: Bool = false, transposeB: Bool = false,
        m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int? = nil,
        b: UnsafePointer<Float>, ldb: Int? = nil,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int? = nil
    ) {
        let lda = lda ?? (transposeA ? m : k)
        let ldb = ldb ?? (transposeB ? k : n)
        let ldc = ldc ?? n
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// `y = alpha * op(A) * x + beta * y`, row-major `A` of `rows x columns`.
    @inlinable
    public static func sgemv(
        transpose: Bool = false, rows: Int, columns: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, x: UnsafePointer<Float>, beta: Float = 0, y: UnsafeMutablePointer<Float>
    ) {
        cblas_sgemv(
            CblasRowMajor, transpose ? CblasTrans : CblasNoTrans, blasint(rows), blasint(columns), alpha,
            a, blasint(columns), x, 1, beta, y, 1)
    }

    /// `y += alpha * x` over `count` values.
    @inlinable
    public static func saxpy(count: Int, alpha: Float, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        cblas_saxpy(blasint(count), alpha, x, 1, y, 1)
    }

    /// `x *= alpha` over `count` values.
    @inlinable
    public static func sscal(count: Int, alpha: Float, x: UnsafeMutablePointer<Float>) {
        cblas_sscal(blasint(count), alpha, x, 1)
    }

    /// The dot product of `count` values (float accumulation, as BLAS does).
    @inlinable
    public static func sdot(count: Int, x: UnsafePointer<Float>, y: UnsafePointer<Float>) -> Float {
        cblas_sdot(blasint(count), x, 1, y, 1)
    }

    /// The Euclidean norm of `count` values.
    @inlinable
    public static func snrm2(count: Int, x: UnsafePointer<Float>) -> Float {
        cblas_snrm2(blasint(count), x, 1)
    }
}

extension BLAS {
    /// `C = A * B` for packed row-major arrays, allocating `C`.
    /// - Precondition: `a.count == m * k`, `b.count == k * n`.
    public static func matmul(_ a: [Float], _ b: [Float], m: Int, k: Int, n: Int) -> [Float] {
        precondition(a.count == m * k && b.count == k * n, "matmul: shapes do not match")
        var c = [Float](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    sgemm(m: m, n: n, k: k, a: pa.baseAddress!, b: pb.baseAddress!, c: pc.baseAddress!)
                }
            }
        }
        return c
    }

    /// The Gram matrix `G = X Xᵀ` of `rows` row vectors of length `columns` (one sgemm).
    public static func gram(_ x: [Float], rows: Int, columns: Int) -> [Float] {
        precondition(x.count == rows * columns, "gram: shape does not match")
        var g = [Float](repeating: 0, count: rows * rows)
        guard rows > 0, columns > 0 else { return g }
        x.withUnsafeBufferPointer { px in
            g.withUnsafeMutableBufferPointer { pg in
                sgemm(transposeB: true, m: rows, n: rows, k: columns, a: px.baseAddress!, b: px.baseAddress!, c: pg.baseAddress!)
            }
        }
        return g
    }
}
