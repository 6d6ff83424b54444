import FedArenaNumerics

/// Small dense symmetric eigen-solvers used by ``GaussianPCA`` and ``Fidelity``.
enum Spectral {
    /// The eigen-decomposition of a symmetric `n x n` matrix by cyclic Jacobi rotations
    /// (Golub and Van Loan, *Matrix Computations*, 4th ed., §8.5), in `Double`.
    /// - Parameters:
    ///   - matrix: row-major, symmetric (only its symmetric part is used).
    ///   - n: the order.
    /// - Returns: eigenvalues in descending order and the matching unit eigenvectors, one per
    ///   row (`vectors[i * n ..< (i + 1) * n]` belongs to `values[i]`).
    static func symmetricEigen(_ matrix: [Double], n: Int) -> (values: [Double], vectors: [Double]) {
        precondition(matrix.count == n * n, "symmetricEigen: the matrix must be n x n")
        var a = matrix
        for i in 0..<n { for j in (i + 1)..<max(i + 1, n) { let s = 0.5 * (a[i * n + j] + a[j * n + i]); a[i * n + j] = s; a[j * n + i] = s } }
        // v holds the eigenvectors as columns while rotating.
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        var scale = 0.0
        for value in a { scale = max(scale, abs(value)) }
        if scale > 0 && n > 1 {
            for _ in 0..<100 {
                var off = 0.0
                for i in 0..<n { for j in (i + 1)..<n { off += a[i * n + j] * a[i * n + j] } }
                if off.squareRoot() <= 1e-15 * scale * Double(n) { break }
                for p in 0..<(n - 1) {
                    for q in (p + 1)..<n {
                        let apq = a[p * n + q]
                        if abs(apq) <= 1e-300 { continue }
                        let theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
                        let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                        let c = 1 / (t * t + 1).squareRoot()
                        let s = t * c
                        for k in 0..<n {
                            let akp = a[k * n + p]
                            let akq = a[k * n + q]
                            a[k * n + p] = c * akp - s * akq
                            a[k * n + q] = s * akp + c * akq
                        }
                        for k in 0..<n {
                            let apk = a[p * n + k]
                            let aqk = a[q * n + k]
                            a[p * n + k] = c * apk - s * aqk
                            a[q * n + k] = s * apk + c * aqk
                        }
                        for k in 0..<n {
                            let vkp = v[k * n + p]
                            let vkq = v[k * n + q]
                            v[k * n + p] = c * vkp - s * vkq
                            v[k * n + q] = s * vkp + c * vkq
                        }
                    }
                }
            }
        }
        let order = (0..<n).sorted { a[$0 * n + $0] > a[$1 * n + $1] || (a[$0 * n + $0] == a[$1 * n + $1] && $0 < $1) }
        var values = [Double]()
        var vectors = [Double](repeating: 0, count: n * n)
        for (row, index) in order.enumerated() {
            values.append(a[index * n + index])
            for k in 0..<n { vectors[row * n + k] = v[k * n + index] }
        }
        return (values, vectors)
    }

    /// Orthonormalises the `rows` rows of `basis` (each `columns` long) in place by classical
    /// Gram-Schmidt applied twice ("twice is enough", Giraud et al. 2005, Numer. Math. 101),
    /// with BLAS level-1 kernels. A row that collapses (linearly dependent) is replaced by the
    /// next standard basis vector that survives.
    static func orthonormalizeRows(_ basis: inout [Float], rows: Int, columns: Int) {
        var fallback = 0
        basis.withUnsafeMutableBufferPointer { buffer in
            let q = buffer.baseAddress!
            var i = 0
            while i < rows {
                let row = q + i * columns
                let original = BLAS.snrm2(count: columns, x: row)
                for _ in 0..<2 {
                    for j in 0..<i {
                        let dot = BLAS.sdot(count: columns, x: row, y: q + j * columns)
                        BLAS.saxpy(count: columns, alpha: -dot, x: q + j * columns, y: row)
                    }
                }
                let norm = BLAS.snrm2(count: columns, x: row)
                if !(norm > 1e-5 * original) || norm == 0 {
                    guard fallback < columns else { row.update(repeating: 0, count: columns); i += 1; continue }
                    row.update(repeating: 0, count: columns)
                    row[fallback] = 1
                    fallback += 1
                    continue
                }
                BLAS.sscal(count: columns, alpha: 1 / norm, x: row)
                i += 1
            }
        }
    }

    /// The top `count` eigenpairs of a symmetric positive semi-definite `d x d` float matrix by
    /// block subspace iteration with Rayleigh-Ritz extraction (Saad, *Numerical Methods for
    /// Large Eigenvalue Problems*, 2nd ed., §5.2), `count + 8` vectors wide, one `sgemm` per step.
    /// - Parameters:
    ///   - matrix: row-major `d x d`, symmetric.
    ///   - d: the order.
    ///   - count: how many eigenpairs, at most `d`.
    ///   - start: the starting block, `width x d` row-major (any full-rank block).
    ///   - maxIterations: the iteration cap.
    ///   - tolerance: stop once the top `count` Ritz values move by less than this, relatively.
    /// - Returns: eigenvalues (descending, clamped at 0) and eigenvectors as rows (`count x d`).
    static func topEigen(
        _ matrix: [Float], d: Int, count: Int, start: [Float], maxIterations: Int = 300, tolerance: Double = 1e-7
    ) -> (values: [Double], vectors: [Float]) {
        let width = start.count / d
        precondition(width >= count && width <= d && start.count == width * d, "topEigen: bad starting block")
        var q = start
        orthonormalizeRows(&q, rows: width, columns: d)
        var z = [Float](repeating: 0, count: width * d)
        var previous = [Double](repeating: .infinity, count: count)
        for _ in 0..<maxIterations {
            multiply(q, matrix, into: &z, rows: width, d: d)
            let ritz = ritzValues(q, z, width: width, d: d)
            q = z
            orthonormalizeRows(&q, rows: width, columns: d)
            var moved = 0.0
            let top = max(ritz.first ?? 0, 1e-30)
            for i in 0..<count { moved = max(moved, abs(ritz[i] - previous[i]) / top) }
            previous = Array(ritz[0..<count])
            if moved < tolerance { break }
        }
        // Rayleigh-Ritz on the final block.
        multiply(q, matrix, into: &z, rows: width, d: d)
        var t = [Double](repeating: 0, count: width * width)
        let projected = BLAS.matmulTransposed(z, q, m: width, n: width, k: d)
        for i in 0..<width { for j in 0..<width { t[i * width + j] = 0.5 * Double(projected[i * width + j] + projected[j * width + i]) } }
        let (values, w) = symmetricEigen(t, n: width)
        var vectors = [Float](repeating: 0, count: count * d)
        for r in 0..<count {
            for j in 0..<width {
                let coefficient = Float(w[r * width + j])
                if coefficient == 0 { continue }
                for k in 0..<d { vectors[r * d + k] += coefficient * q[j * d + k] }
            }
        }
        return (values[0..<count].map { max($0, 0) }, vectors)
    }

    /// `out = rows x d` block times the symmetric matrix (`out = Q · A`).
    private static func multiply(_ q: [Float], _ matrix: [Float], into out: inout [Float], rows: Int, d: Int) {
        q.withUnsafeBufferPointer { pq in
            matrix.withUnsafeBufferPointer { pa in
                out.withUnsafeMutableBufferPointer { po in
                    BLAS.sgemm(m: rows, n: d, k: d, a: pq.baseAddress!, b: pa.baseAddress!, c: po.baseAddress!)
                }
            }
        }
    }

    /// The eigenvalues of the Rayleigh quotient `Q A Qᵀ` given `Z = Q A`, descending.
    private static func ritzValues(_ q: [Float], _ z: [Float], width: Int, d: Int) -> [Double] {
        let projected = BLAS.matmulTransposed(z, q, m: width, n: width, k: d)
        var t = [Double](repeating: 0, count: width * width)
        for i in 0..<width { for j in 0..<width { t[i * width + j] = 0.5 * Double(projected[i * width + j] + projected[j * width + i]) } }
        return symmetricEigen(t, n: width).values
    }
}

extension BLAS {
    /// `C = A · Bᵀ` for packed row-major `A (m x k)` and `B (n x k)`.
    static func matmulTransposed(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int) -> [Float] {
        precondition(a.count == m * k && b.count == n * k, "matmulTransposed: shapes do not match")
        var c = [Float](repeating: 0, count: m * n)
        guard m > 0, n > 0, k > 0 else { return c }
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    sgemm(transposeB: true, m: m, n: n, k: k, a: pa.baseAddress!, b: pb.baseAddress!, c: pc.baseAddress!)
                }
            }
        }
        return c
    }

    /// `C = Aᵀ · B` for packed row-major `A (k x m)` and `B (k x n)`.
    static func matmulTransposingFirst(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int) -> [Float] {
        precondition(a.count == m * k && b.count == n * k, "matmulTransposingFirst: shapes do not match")
        var c = [Float](repeating: 0, count: m * n)
        guard m > 0, n > 0, k > 0 else { return c }
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    sgemm(transposeA: true, m: m, n: n, k: k, a: pa.baseAddress!, b: pb.baseAddress!, c: pc.baseAddress!)
                }
            }
        }
        return c
    }
}
