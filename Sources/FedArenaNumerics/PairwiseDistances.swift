import COpenBLAS
import Foundation

/// All pairwise squared distances (and, on request, norms and cosines) of `n` rows, accurate
/// whatever the rows' common offset: the one distance/Gram routine of FedArena, used by Krum,
/// Multi-Krum, Bulyan, NNM, FLAME, FoolsGold, the update-similarity detector and Fang's attack
/// on Krum (through ``KrumScoring``).
///
/// ## Method
/// `‖a − b‖² = ‖a‖² + ‖b‖² − 2a·b` from a float32 Gram matrix cancels catastrophically when
/// the rows share a large component (`‖a‖² ≫ ‖a − b‖²`: at `d = 79,510`, an offset of 5 per
/// coordinate and a spread of 0.01 leave no correct digit). Distances are translation
/// invariant, so the Gram matrix is taken of the rows *centred on their coordinate-wise mean*:
/// blocks of columns are copied into a cache-sized buffer, centred there, and accumulated with
/// OpenBLAS `ssyrk` (`β = 1`), so the data is read once and never copied whole. Then, in
/// `Double`, `D_ij = G'_ii + G'_jj − 2G'_ij` with `G' = A'A'ᵀ` of the centred rows `A'`.
///
/// When the rows are one contiguous block and their common offset is small (the rows' squared
/// norms sum to at most twice their squared distances to the mean, which the uncentred Gram
/// matrix itself tells), centring cannot tighten the bounds by more than a factor of 2, and the
/// Gram matrix is taken in place with one `ssyrk` over the whole block, as numpy's `X @ X.T`
/// is: no copy, no centring pass (``Centring/automatic``). Otherwise the centred path runs.
///
/// ## Error bound and exact refinement
/// Each distance carries an absolute error bound (``errorBound(_:_:)``):
/// `e_ij = 2u√d (G'_ii + G'_jj) + 2u √D_ij (√G'_ii + √G'_jj)` with `u = 2⁻²⁴`: the first term
/// models float32 accumulation in the Gram matrix (a random-walk bound, about 50 times the
/// largest error measured at `d = 79,510`), the second the rounding of the centred values.
/// With ``Precision/double`` the blocks are centred and multiplied in `Double` (`dsyrk`) and
/// the bound is `2d·2⁻⁵³ (G'_ii + G'_jj) + 2·2⁻⁵³ √D_ij (…)`, the worst case of recursive
/// summation.
/// A pair whose bound exceeds `2⁻¹⁰` of its distance (near-duplicates, where centring alone
/// cannot help) is recomputed directly with every difference in `Double`
/// (``VectorMath/exactSquaredDistance(_:_:)``), and its bound becomes 0. Callers that must make
/// the exact float64 decision (``KrumScoring``) use the bounds to find the comparisons that are
/// not yet certain and ``refine(rows:using:)`` or ``refine(pairs:using:)`` just those.
///
/// ## Cosines
/// With `products: .cosines` the direct squared norms of the rows and the products
/// `p_i = m·a'_i` with the mean `m` are accumulated too (one `sgemv` per block), so that
/// `‖a‖² − ‖b‖² = G'_aa − G'_bb + 2(p_a − p_b)` is also free of the offset and the cosine
/// distance comes out as `1 − cos = (‖a − b‖² − (‖a‖ − ‖b‖)²) / (2‖a‖‖b‖)`, accurate where
/// `1 − a·b/(‖a‖‖b‖)` would return 0 for every pair.
public struct PairwiseDistances: Sendable {
    /// What to compute besides the squared distances.
    public enum Products: Sendable, Equatable {
        /// Squared distances only (Krum, Bulyan, NNM).
        case distances
        /// Also squared norms, dot products and cosines (FLAME, FoolsGold, similarity detectors).
        case cosines
    }

    /// The number of rows `n`.
    public let count: Int
    /// The row length `d`.
    public let dimension: Int
    /// The first row found holding NaN or infinity, or `nil`; when set, no distance is meaningful.
    public let nonFiniteRow: Int?
    /// Whether finite rows are so large that their centred squared norms overflow float32; when
    /// set, no distance is meaningful.
    public let overflows: Bool

    /// The `n × n` row-major matrix of squared distances (symmetric, zero diagonal).
    public private(set) var squaredDistanceMatrix: [Double]
    /// The `n × n` matrix of absolute error bounds (0 where exact).
    public private(set) var errorBoundMatrix: [Double]
    private let centredSquaredNorms: [Double]
    private let directSquaredNorms: [Double]
    private let meanProducts: [Double]

    /// The relative error bound above which a pair is recomputed exactly at construction.
    public static let refinementRatio = 0x1.0p-10

    /// The arithmetic of the Gram matrix.
    public enum Precision: Sendable, Equatable {
        /// float32 `ssyrk` (as numpy's `X @ X.T`); error bound `2u√d` relative, `u = 2⁻²⁴`.
        case single
        /// float64 `dsyrk` on the centred blocks converted to `Double` (about twice the time);
        /// error bound `2d·2⁻⁵³` relative: for rules that make many comparisons in sequence
        /// (Bulyan's repeated Krum), where single-precision bounds would leave many open.
        case double
    }

    /// Whether the rows are centred before the Gram matrix.
    public enum Centring: Sendable, Equatable {
        /// Centre unless the rows are contiguous, only distances are wanted in single precision,
        /// and their common offset is small (see the type's notes).
        case automatic
        /// Always centre (the blocked path).
        case always
    }

    /// Whether the Gram matrix was taken of centred rows (`false`: the in-place fast path).
    public let isCentred: Bool

    /// Computes the distances of `rows`.
    /// - Parameters:
    ///   - rows: `n` rows of `d` values (a contiguous block or separate arrays).
    ///   - products: whether norms and cosines are needed too.
    ///   - precision: the Gram matrix's arithmetic (default `.single`).
    ///   - centring: when to centre (default ``Centring/automatic``).
    ///   - blockColumns: columns per pass (default: about 256 KiB of rows; for tests).
    public init(
        _ rows: RowPointers, products: Products = .distances, precision: Precision = .single, centring: Centring = .automatic,
        blockColumns: Int? = nil
    ) {
        let n = rows.count
        let d = rows.columns
        count = n
        dimension = d
        let wantsCosines = products == .cosines
        let bytes = precision == .single ? 4 : 8
        let width = min(d, max(16, blockColumns ?? max(64, (1 << 18) / (bytes * max(n, 1)))))
        let sums: Sums
        if centring == .automatic, precision == .single, !wantsCosines, let base = rows.contiguousBase,
           let inPlace = Self.uncentredGram(base, rows: n, columns: d) {
            sums = inPlace
            isCentred = false
        } else {
            switch precision {
            case .single: sums = Self.singleGram(rows, cosines: wantsCosines, width: width)
            case .double: sums = Self.doubleGram(rows, cosines: wantsCosines, width: width)
            }
            isCentred = true
        }
        let gram = sums.gram
        let badRow = sums.badRow
        let direct = sums.direct
        let meanDot = sums.meanDot
        nonFiniteRow = badRow
        let centred = (0..<n).map { gram[$0 * n + $0] }
        centredSquaredNorms = centred
        directSquaredNorms = direct
        meanProducts = meanDot
        overflows = badRow == nil && centred.contains { !$0.isFinite }
        var distances = [Double](repeating: 0, count: n * n)
        var errors = [Double](repeating: 0, count: n * n)

        guard badRow == nil, !overflows else {
            squaredDistanceMatrix = distances
            errorBoundMatrix = errors
            return
        }
        let u = precision == .single ? 0x1.0p-24 : 0x1.0p-53
        let gramError = precision == .single ? 2 * u * Double(d).squareRoot() : 2 * Double(d) * u
        var nearDuplicates = [(Int, Int)]()
        for i in 0..<n {
            for j in (i + 1)..<max(i + 1, n) {
                let value = max(0, centred[i] + centred[j] - 2 * gram[i * n + j])
                let bound = gramError * (centred[i] + centred[j])
                    + 2 * u * value.squareRoot() * (centred[i].squareRoot() + centred[j].squareRoot())
                distances[i * n + j] = value
                distances[j * n + i] = value
                errors[i * n + j] = bound
                errors[j * n + i] = bound
                if bound > Self.refinementRatio * value { nearDuplicates.append((i, j)) }
            }
        }
        squaredDistanceMatrix = distances
        errorBoundMatrix = errors
        refine(pairs: Self.settlingIdenticalRows(nearDuplicates, rows: rows, distances: &squaredDistanceMatrix, errors: &errorBoundMatrix), using: rows)
    }

    /// Sets the distance of bit-identical rows among `pairs` to an exact 0 (a checksum groups the
    /// rows, `memcmp` confirms each against its group's first) and returns the other pairs. NNM's
    /// outputs, for one, are often identical: comparing once per row is far cheaper than
    /// recomputing every pair.
    private static func settlingIdenticalRows(
        _ pairs: [(Int, Int)], rows: RowPointers, distances: inout [Double], errors: inout [Double]
    ) -> [(Int, Int)] {
        guard pairs.count > 1 else { return pairs }
        let n = rows.count
        let bytes = rows.columns * MemoryLayout<Float>.stride
        let involved = Set(pairs.flatMap { [$0.0, $0.1] }).sorted()
        var representative = [Int: Int]()
        var firstOfChecksum = [UInt32: [Int]]()
        for row in involved {
            let checksum = Self.checksum(rows.row(row))
            let candidates = firstOfChecksum[checksum, default: []]
            if let match = candidates.first(where: { memcmp(rows[$0], rows[row], bytes) == 0 }) {
                representative[row] = match
            } else {
                representative[row] = row
                firstOfChecksum[checksum] = candidates + [row]
            }
        }
        var remaining = [(Int, Int)]()
        for (i, j) in pairs {
            if representative[i] == representative[j] {
                distances[i * n + j] = 0
                distances[j * n + i] = 0
                errors[i * n + j] = 0
                errors[j * n + i] = 0
            } else {
                remaining.append((i, j))
            }
        }
        return remaining
    }

    /// A cheap checksum of a row's bits (position-weighted wrapping sum in 8 lanes).
    private static func checksum(_ row: UnsafeBufferPointer<Float>) -> UInt32 {
        guard let base = row.baseAddress else { return 0 }
        let raw = UnsafeRawPointer(base)
        var lanes = SIMD8<UInt32>()
        var weights = SIMD8<UInt32>(1, 3, 5, 7, 9, 11, 13, 15)
        let step = SIMD8<UInt32>(repeating: 16)
        var i = 0
        while i + 8 <= row.count {
            lanes &+= raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<UInt32>.self) &* weights
            weights &+= step
            i += 8
        }
        var total = lanes.wrappedSum()
        while i < row.count {
            total = total &* 31 &+ base[i].bitPattern
            i += 1
        }
        return total
    }

    /// The centred Gram matrix (upper triangle, `n × n`, in `Double`), the rows' direct squared
    /// norms and `m·a'_i` when cosines are wanted, or the first non-finite row.
    private struct Sums {
        var gram: [Double]
        var direct: [Double]
        var meanDot: [Double]
        var badRow: Int?
    }

    /// Copies columns `start..<start+w` into `blk`, returns the column means in `m` (float32), or
    /// the first row with a non-finite value. The column sums propagate NaN and infinity, so a
    /// finite sum proves the block finite without a separate pass.
    private static func loadBlock(
        _ rows: RowPointers, start: Int, width w: Int, into blk: UnsafeMutablePointer<Float>, mean m: UnsafeMutablePointer<Float>
    ) -> Int? {
        let n = rows.count
        rows.copyBlock(start: start, width: w, into: blk)
        for c in 0..<w { m[c] = 0 }
        for r in 0..<n {
            let row = blk + r * w
            for c in 0..<w { m[c] += row[c] }
        }
        var total: Float = 0
        for c in 0..<w { total += m[c] - m[c] }
        if total != 0 || !total.isFinite {
            // A NaN or an infinity, or finite values whose sum overflowed (caught later).
            if let bad = (0..<n).first(where: { !Statistics.allFinite(UnsafeBufferPointer(start: blk + $0 * w, count: w)) }) { return bad }
        }
        let scale = 1 / Float(n)
        for c in 0..<w { m[c] *= scale }
        return nil
    }

    /// The Gram matrix of the rows as they are (one `ssyrk` over the contiguous block), or `nil`
    /// when centring would tighten the bounds by more than a factor of 2 (the common offset's
    /// energy `n‖m‖² = 1ᵀG1 / n` exceeds the spread `Σ G_ii − n‖m‖²`) or a squared norm is not
    /// finite (the centred path then names the row or reports the overflow).
    private static func uncentredGram(_ base: UnsafePointer<Float>, rows n: Int, columns d: Int) -> Sums? {
        guard n > 0, d > 0 else { return nil }
        var gram = [Float](repeating: 0, count: n * n)
        gram.withUnsafeMutableBufferPointer { g in
            cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, blasint(n), blasint(d), 1, base, blasint(d), 0, g.baseAddress!, blasint(n))
        }
        var diagonal = 0.0
        var total = 0.0
        for i in 0..<n {
            let value = Double(gram[i * n + i])
            guard value.isFinite else { return nil }
            diagonal += value
            total += value
            for j in (i + 1)..<max(i + 1, n) { total += 2 * Double(gram[i * n + j]) }
        }
        let offset = max(0, total / Double(n))
        guard offset <= diagonal - offset else { return nil }
        return Sums(gram: gram.map(Double.init), direct: [], meanDot: [])
    }

    private static func singleGram(_ rows: RowPointers, cosines: Bool, width: Int) -> Sums {
        let n = rows.count
        let d = rows.columns
        var gram = [Float](repeating: 0, count: n * n)
        var sums = Sums(gram: [], direct: [Double](repeating: 0, count: cosines ? n : 0), meanDot: [Double](repeating: 0, count: cosines ? n : 0))
        if n > 0, d > 0 {
            var block = [Float](repeating: 0, count: n * width)
            var mean = [Float](repeating: 0, count: width)
            var product = [Float](repeating: 0, count: n)
            block.withUnsafeMutableBufferPointer { blockBuffer in
            gram.withUnsafeMutableBufferPointer { gramBuffer in
            mean.withUnsafeMutableBufferPointer { meanBuffer in
            product.withUnsafeMutableBufferPointer { productBuffer in
                let blk = blockBuffer.baseAddress!
                let g = gramBuffer.baseAddress!
                let m = meanBuffer.baseAddress!
                let p = productBuffer.baseAddress!
                var start = 0
                while start < d {
                    let w = min(width, d - start)
                    if let bad = loadBlock(rows, start: start, width: w, into: blk, mean: m) {
                        sums.badRow = bad
                        return
                    }
                    if cosines {
                        for r in 0..<n { sums.direct[r] += VectorMath.sumOfSquares(UnsafeBufferPointer(start: blk + r * w, count: w)) }
                    }
                    for r in 0..<n {
                        let row = blk + r * w
                        for c in 0..<w { row[c] -= m[c] }
                    }
                    if cosines {
                        BLAS.sgemv(rows: n, columns: w, a: blk, x: m, y: p)
                        for r in 0..<n { sums.meanDot[r] += Double(p[r]) }
                    }
                    cblas_ssyrk(
                        CblasRowMajor, CblasUpper, CblasNoTrans, blasint(n), blasint(w), 1, blk, blasint(w),
                        start == 0 ? 0 : 1, g, blasint(n))
                    start += w
                }
            }}}}
        }
        sums.gram = gram.map(Double.init)
        return sums
    }

    private static func doubleGram(_ rows: RowPointers, cosines: Bool, width: Int) -> Sums {
        let n = rows.count
        let d = rows.columns
        var sums = Sums(
            gram: [Double](repeating: 0, count: n * n), direct: [Double](repeating: 0, count: cosines ? n : 0),
            meanDot: [Double](repeating: 0, count: cosines ? n : 0))
        guard n > 0, d > 0 else { return sums }
        var block = [Float](repeating: 0, count: n * width)
        var wide = [Double](repeating: 0, count: n * width)
        var mean = [Float](repeating: 0, count: width)
        var wideMean = [Double](repeating: 0, count: width)
        var product = [Double](repeating: 0, count: n)
        var gram = sums.gram
        block.withUnsafeMutableBufferPointer { blockBuffer in
        wide.withUnsafeMutableBufferPointer { wideBuffer in
        gram.withUnsafeMutableBufferPointer { gramBuffer in
        mean.withUnsafeMutableBufferPointer { meanBuffer in
        wideMean.withUnsafeMutableBufferPointer { wideMeanBuffer in
        product.withUnsafeMutableBufferPointer { productBuffer in
            let blk = blockBuffer.baseAddress!
            let wd = wideBuffer.baseAddress!
            let g = gramBuffer.baseAddress!
            let m = meanBuffer.baseAddress!
            let wm = wideMeanBuffer.baseAddress!
            let p = productBuffer.baseAddress!
            var start = 0
            while start < d {
                let w = min(width, d - start)
                if let bad = loadBlock(rows, start: start, width: w, into: blk, mean: m) {
                    sums.badRow = bad
                    return
                }
                if cosines {
                    for r in 0..<n { sums.direct[r] += VectorMath.sumOfSquares(UnsafeBufferPointer(start: blk + r * w, count: w)) }
                }
                // The mean in Double, then every value centred in Double.
                for c in 0..<w { wm[c] = 0 }
                for r in 0..<n {
                    let row = blk + r * w
                    for c in 0..<w { wm[c] += Double(row[c]) }
                }
                let scale = 1 / Double(n)
                for c in 0..<w { wm[c] *= scale }
                for r in 0..<n {
                    let row = blk + r * w
                    let out = wd + r * w
                    for c in 0..<w { out[c] = Double(row[c]) - wm[c] }
                }
                if cosines {
                    cblas_dgemv(CblasRowMajor, CblasNoTrans, blasint(n), blasint(w), 1, wd, blasint(w), wm, 1, 0, p, 1)
                    for r in 0..<n { sums.meanDot[r] += p[r] }
                }
                cblas_dsyrk(
                    CblasRowMajor, CblasUpper, CblasNoTrans, blasint(n), blasint(w), 1, wd, blasint(w),
                    start == 0 ? 0 : 1, g, blasint(n))
                start += w
            }
        }}}}}}
        sums.gram = gram
        return sums
    }

    // MARK: Distances

    /// `‖x_i − x_j‖²` (0 on the diagonal).
    public func squaredDistance(_ i: Int, _ j: Int) -> Double { squaredDistanceMatrix[i * count + j] }

    /// The bound on the absolute error of ``squaredDistance(_:_:)`` (0 once computed exactly).
    public func errorBound(_ i: Int, _ j: Int) -> Double { errorBoundMatrix[i * count + j] }

    /// Whether the distance of `i` and `j` has been computed exactly.
    public func isExact(_ i: Int, _ j: Int) -> Bool { errorBoundMatrix[i * count + j] == 0 }

    /// Recomputes exactly every distance between a row of `refined` and any other row.
    /// - Parameters:
    ///   - refined: the rows whose distances must become exact.
    ///   - rows: the same rows the distances were computed from.
    public mutating func refine(rows refined: some Sequence<Int>, using rows: RowPointers) {
        let targets = Set(refined)
        guard !targets.isEmpty else { return }
        var pairs = [(Int, Int)]()
        // Row j outer, targets inner: each row streams from memory once per call.
        for j in 0..<count {
            for i in targets.sorted() where i != j && !isExact(i, j) && !(targets.contains(j) && j < i) {
                pairs.append((i, j))
            }
        }
        refine(pairs: pairs, using: rows)
    }

    /// Recomputes the given pairs exactly.
    /// - Parameters:
    ///   - pairs: `(i, j)` pairs, `i ≠ j`.
    ///   - rows: the same rows the distances were computed from.
    public mutating func refine(pairs: [(Int, Int)], using rows: RowPointers) {
        precondition(rows.count == count && rows.columns == dimension, "refine: not the rows the distances came from")
        for (i, j) in pairs where i != j {
            let exact = VectorMath.exactSquaredDistance(rows.row(i), rows.row(j))
            squaredDistanceMatrix[i * count + j] = exact
            squaredDistanceMatrix[j * count + i] = exact
            errorBoundMatrix[i * count + j] = 0
            errorBoundMatrix[j * count + i] = 0
        }
    }

    // MARK: Norms and cosines (products: .cosines)

    /// `‖x_i‖²`, summed directly (relative accuracy ~1e-7).
    /// - Precondition: built with `products: .cosines`.
    public func squaredNorm(_ i: Int) -> Double {
        precondition(!directSquaredNorms.isEmpty, "PairwiseDistances: build with products: .cosines for norms")
        return directSquaredNorms[i]
    }

    /// The squared norms of all rows.
    /// - Precondition: built with `products: .cosines`.
    public var squaredNorms: [Double] { (0..<count).map(squaredNorm) }

    /// `x_i · x_j = (‖x_i‖² + ‖x_j‖² − ‖x_i − x_j‖²) / 2`.
    /// - Precondition: built with `products: .cosines`.
    public func dot(_ i: Int, _ j: Int) -> Double {
        i == j ? squaredNorm(i) : 0.5 * (squaredNorm(i) + squaredNorm(j) - squaredDistance(i, j))
    }

    /// The cosine distance `1 − cos(x_i, x_j)` in [0, 2], computed without cancellation (see the
    /// type's notes); 1 when either row is zero, 0 on the diagonal.
    /// - Precondition: built with `products: .cosines`.
    public func cosineDistance(_ i: Int, _ j: Int) -> Double {
        if i == j { return 0 }
        let a = squaredNorm(i)
        let b = squaredNorm(j)
        guard a > 0, b > 0 else { return 1 }
        let (normA, normB) = (a.squareRoot(), b.squareRoot())
        let normGap = (centredSquaredNorms[i] - centredSquaredNorms[j] + 2 * (meanProducts[i] - meanProducts[j])) / (normA + normB)
        let value = (squaredDistance(i, j) - normGap * normGap) / (2 * normA * normB)
        return min(2, max(0, value))
    }

    /// The cosine similarity `cos(x_i, x_j)` in [−1, 1] (0 when either row is zero).
    /// - Precondition: built with `products: .cosines`.
    public func cosine(_ i: Int, _ j: Int) -> Double {
        if i == j { return squaredNorm(i) > 0 ? 1 : 0 }
        guard squaredNorm(i) > 0, squaredNorm(j) > 0 else { return 0 }
        return 1 - cosineDistance(i, j)
    }
}
