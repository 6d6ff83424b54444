/// The handful of dense `Float` vector kernels that models, aggregators and the runtime share.
///
/// Each kernel has a buffer-pointer form (for hot loops that already hold unsafe buffers, no
/// copy-on-write checks) and an `[Float]` form. Element-wise updates go through BLAS level 1
/// (`saxpy`, `sscal`), which is as fast as the best Swift loop in release builds and far faster in
/// debug builds. Reductions keep 8 `Float` lanes of at most 64 terms each and add every block into
/// a `Double`, so sums over ~10⁵ coordinates keep ~1e-6 relative precision and stay vectorised.
public enum VectorMath {
    // MARK: - Updates in place

    /// `y += alpha * x`.
    /// - Parameters:
    ///   - alpha: the scale applied to `x`.
    ///   - x: the vector to add.
    ///   - y: the vector updated in place; same count as `x`.
    @inlinable
    public static func axpy(_ alpha: Float, _ x: UnsafeBufferPointer<Float>, into y: UnsafeMutableBufferPointer<Float>) {
        precondition(x.count == y.count, "axpy: counts differ (\(x.count) vs \(y.count))")
        guard let px = x.baseAddress, let py = y.baseAddress else { return }
        BLAS.saxpy(count: x.count, alpha: alpha, x: px, y: py)
    }

    /// `y += alpha * x`.
    /// - Parameters:
    ///   - alpha: the scale applied to `x`.
    ///   - x: the vector to add.
    ///   - y: the vector updated in place; same count as `x`.
    @inlinable
    public static func axpy(_ alpha: Float, _ x: [Float], into y: inout [Float]) {
        x.withUnsafeBufferPointer { px in
            y.withUnsafeMutableBufferPointer { py in axpy(alpha, px, into: py) }
        }
    }

    /// `x *= alpha`.
    /// - Parameters:
    ///   - x: the vector scaled in place.
    ///   - alpha: the factor.
    @inlinable
    public static func scale(_ x: UnsafeMutableBufferPointer<Float>, by alpha: Float) {
        guard let px = x.baseAddress else { return }
        BLAS.sscal(count: x.count, alpha: alpha, x: px)
    }

    /// `x *= alpha`.
    /// - Parameters:
    ///   - x: the vector scaled in place.
    ///   - alpha: the factor.
    @inlinable
    public static func scale(_ x: inout [Float], by alpha: Float) {
        x.withUnsafeMutableBufferPointer { scale($0, by: alpha) }
    }

    /// `y += x`.
    /// - Parameters:
    ///   - x: the vector to add.
    ///   - y: the vector updated in place; same count as `x`.
    @inlinable
    public static func add(_ x: [Float], into y: inout [Float]) {
        axpy(1, x, into: &y)
    }

    /// `y -= x`.
    /// - Parameters:
    ///   - x: the vector to subtract.
    ///   - y: the vector updated in place; same count as `x`.
    @inlinable
    public static func subtract(_ x: [Float], from y: inout [Float]) {
        axpy(-1, x, into: &y)
    }

    /// `result = a - b`, written into a caller-provided buffer.
    /// - Parameters:
    ///   - a: the minuend.
    ///   - b: the subtrahend; same count as `a`.
    ///   - result: receives `a - b`; same count as `a`. May alias `a` or `b`.
    @inlinable
    public static func difference(
        _ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>, into result: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(a.count == b.count && a.count == result.count, "difference: counts differ")
        guard let pa = a.baseAddress, let pb = b.baseAddress, let pr = result.baseAddress else { return }
        for i in 0..<a.count { pr[i] = pa[i] - pb[i] }
    }

    /// `a - b` as a new array.
    /// - Parameters:
    ///   - a: the minuend.
    ///   - b: the subtrahend; same count as `a`.
    /// - Returns: the element-wise difference.
    public static func difference(_ a: [Float], _ b: [Float]) -> [Float] {
        precondition(a.count == b.count, "difference: counts differ (\(a.count) vs \(b.count))")
        return [Float](unsafeUninitializedCapacity: a.count) { result, initialized in
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in difference(pa, pb, into: result) }
            }
            initialized = a.count
        }
    }

    // MARK: - Reductions

    /// The sum of the values, accumulated blockwise in `Double`.
    /// - Parameter x: the values.
    /// - Returns: `Σ x_i`.
    public static func sum(_ x: UnsafeBufferPointer<Float>) -> Double {
        reduce(x, x) { a, _ in a }
    }

    /// The sum of squares `Σ x_i²`, accumulated in `Double`.
    /// - Parameter x: the values.
    /// - Returns: the squared Euclidean norm.
    public static func sumOfSquares(_ x: UnsafeBufferPointer<Float>) -> Double {
        reduce(x, x) { a, _ in a * a }
    }

    /// The sum of squares `Σ x_i²`, accumulated in `Double`.
    /// - Parameter x: the values.
    /// - Returns: the squared Euclidean norm.
    public static func sumOfSquares(_ x: [Float]) -> Double {
        x.withUnsafeBufferPointer { sumOfSquares($0) }
    }

    /// The dot product `Σ x_i y_i`, accumulated in `Double`.
    /// - Parameters:
    ///   - x: the first vector.
    ///   - y: the second vector; same count as `x`.
    /// - Returns: the dot product.
    public static func dot(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeBufferPointer<Float>) -> Double {
        precondition(x.count == y.count, "dot: counts differ (\(x.count) vs \(y.count))")
        return reduce(x, y) { a, b in a * b }
    }

    /// The dot product `Σ x_i y_i`, accumulated in `Double`.
    /// - Parameters:
    ///   - x: the first vector.
    ///   - y: the second vector; same count as `x`.
    /// - Returns: the dot product.
    public static func dot(_ x: [Float], _ y: [Float]) -> Double {
        x.withUnsafeBufferPointer { px in y.withUnsafeBufferPointer { py in dot(px, py) } }
    }

    /// The squared Euclidean distance `Σ (x_i - y_i)²`, accumulated in `Double`.
    /// - Parameters:
    ///   - x: the first vector.
    ///   - y: the second vector; same count as `x`.
    /// - Returns: `‖x - y‖²`.
    public static func squaredDistance(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeBufferPointer<Float>) -> Double {
        precondition(x.count == y.count, "squaredDistance: counts differ (\(x.count) vs \(y.count))")
        return reduce(x, y) { a, b in (a - b) * (a - b) }
    }

    /// The squared Euclidean distance `Σ (x_i - y_i)²`, accumulated in `Double`.
    /// - Parameters:
    ///   - x: the first vector.
    ///   - y: the second vector; same count as `x`.
    /// - Returns: `‖x - y‖²`.
    public static func squaredDistance(_ x: [Float], _ y: [Float]) -> Double {
        x.withUnsafeBufferPointer { px in y.withUnsafeBufferPointer { py in squaredDistance(px, py) } }
    }

    /// The squared Euclidean distance with every difference and square taken in `Double`:
    /// exact to ~1e-16 relative whatever the offset of `x` and `y` (a difference of two floats
    /// is exact in `Double`), about twice the cost of `squaredDistance`.
    /// Used where nearly equal vectors must be told apart (``PairwiseDistances`` refinement).
    /// - Parameters:
    ///   - x: the first vector.
    ///   - y: the second vector; same count as `x`.
    /// - Returns: `‖x - y‖²`.
    public static func exactSquaredDistance(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeBufferPointer<Float>) -> Double {
        precondition(x.count == y.count, "exactSquaredDistance: counts differ (\(x.count) vs \(y.count))")
        let count = x.count
        guard count > 0, let px = x.baseAddress, let py = y.baseAddress else { return 0 }
        let rawX = UnsafeRawPointer(px)
        let rawY = UnsafeRawPointer(py)
        var low = SIMD4<Double>()
        var high = SIMD4<Double>()
        var i = 0
        while i + 8 <= count {
            let vx = rawX.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            let vy = rawY.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            let d0 = SIMD4<Double>(vx.lowHalf) - SIMD4<Double>(vy.lowHalf)
            let d1 = SIMD4<Double>(vx.highHalf) - SIMD4<Double>(vy.highHalf)
            low += d0 * d0
            high += d1 * d1
            i += 8
        }
        var total = (low + high).sum()
        while i < count {
            let difference = Double(px[i]) - Double(py[i])
            total += difference * difference
            i += 1
        }
        return total
    }

    // MARK: - Double against Float

    /// `Σ x_i y_i` with `x` in `Double` (an attack's mean or direction against an update).
    /// - Parameters:
    ///   - x: the `Double` vector.
    ///   - y: the `Float` vector; same count.
    /// - Returns: the dot product.
    public static func dot(_ x: [Double], with y: [Float]) -> Double {
        precondition(x.count == y.count, "dot: counts differ (\(x.count) vs \(y.count))")
        var sum = 0.0
        y.withUnsafeBufferPointer { v in
            for j in 0..<x.count { sum += x[j] * Double(v[j]) }
        }
        return sum
    }

    /// `‖x − y‖²` with `x` in `Double`.
    /// - Parameters:
    ///   - x: the `Double` vector.
    ///   - y: the `Float` vector; same count.
    /// - Returns: the squared distance.
    public static func squaredDistance(_ x: [Double], to y: [Float]) -> Double {
        precondition(x.count == y.count, "squaredDistance: counts differ (\(x.count) vs \(y.count))")
        var sum = 0.0
        y.withUnsafeBufferPointer { v in
            for j in 0..<x.count {
                let difference = x[j] - Double(v[j])
                sum += difference * difference
            }
        }
        return sum
    }

    /// `Σ x_i²` of a `Double` vector.
    /// - Parameter x: the values.
    /// - Returns: the squared norm.
    public static func sumOfSquares(of x: [Double]) -> Double { x.reduce(0) { $0 + $1 * $1 } }

    /// The index of the largest value; the first one on ties (as `numpy.argmax`).
    ///
    /// NaN values are never selected unless every value is NaN, in which case the result is 0.
    /// - Parameter x: the values; must not be empty.
    /// - Returns: the index of the maximum.
    @inlinable
    public static func argmax(_ x: UnsafeBufferPointer<Float>) -> Int {
        precondition(!x.isEmpty, "argmax of an empty vector")
        var best = 0
        var bestValue = x[0]
        for i in 1..<x.count where x[i] > bestValue || (bestValue.isNaN && !x[i].isNaN) {
            best = i
            bestValue = x[i]
        }
        return best
    }

    /// The index of the largest value; the first one on ties (as `numpy.argmax`).
    /// - Parameter x: the values; must not be empty.
    /// - Returns: the index of the maximum.
    public static func argmax(_ x: [Float]) -> Int {
        x.withUnsafeBufferPointer { argmax($0) }
    }

    /// `Σ f(x_i, y_i)` with `f` evaluated in `Float` over 8 lanes and the lanes summed in `Double`
    /// every 512 elements.
    @inline(__always)
    private static func reduce(
        _ x: UnsafeBufferPointer<Float>, _ y: UnsafeBufferPointer<Float>,
        _ term: (SIMD8<Float>, SIMD8<Float>) -> SIMD8<Float>
    ) -> Double {
        let count = x.count
        guard count > 0, let px = x.baseAddress, let py = y.baseAddress else { return 0 }
        let rawX = UnsafeRawPointer(px)
        let rawY = UnsafeRawPointer(py)
        var total = 0.0
        var i = 0
        let block = 512
        while i + 8 <= count {
            var lanes = SIMD8<Float>()
            let end = min(count - count % 8, i + block)
            while i < end {
                let vx = rawX.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                let vy = rawY.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                lanes += term(vx, vy)
                i += 8
            }
            var partial = 0.0
            for lane in 0..<8 { partial += Double(lanes[lane]) }
            total += partial
        }
        while i < count {
            var vx = SIMD8<Float>()
            var vy = SIMD8<Float>()
            vx[0] = px[i]
            vy[0] = py[i]
            total += Double(term(vx, vy)[0])
            i += 1
        }
        return total
    }
}
