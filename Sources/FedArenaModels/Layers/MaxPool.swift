import FedArenaNumerics

/// Max pooling over `size x size` windows moved by `stride`, per channel (no padding; a partial
/// window at the border is dropped, like PyTorch's `max_pool2d`).
///
/// The forward pass keeps, per output, the position in its window of the first maximum
/// (row-major order); the backward pass routes the output's delta there. Where windows overlap
/// (`stride < size`) the deltas of every window are summed.
///
/// A ReLU right before the pool is folded into it (`rectified`): `max(relu(x)) = relu(max(x))`,
/// and the delta is routed only where that maximum is positive, which is exactly what the
/// ReLU's mask followed by the pool's routing gives. The ReLU then never touches the four times
/// larger input. NaN propagates in both forms.
struct MaxPool: NetworkLayer {
    let channels: Int
    let inHeight: Int
    let inWidth: Int
    let size: Int
    let stride: Int
    let outHeight: Int
    let outWidth: Int
    /// Whether a ReLU before the pool is folded in.
    let rectified: Bool

    init(input: [Int], size: Int, stride: Int, rectified: Bool) {
        precondition(input.count == 3, "the network checked the shapes")
        channels = input[0]
        inHeight = input[1]
        inWidth = input[2]
        self.size = size
        self.stride = stride
        outHeight = (inHeight - size) / stride + 1
        outWidth = (inWidth - size) / stride + 1
        self.rectified = rectified
    }

    var description: String { (rectified ? "relu+" : "") + "maxpool\(size)/\(stride)" }
    var inputSize: Int { inHeight * inWidth * channels }
    var outputSize: Int { outHeight * outWidth * channels }
    /// Per output, the window position `i * size + j` of its maximum as a float, or -1 when a
    /// rectified pool routes nothing.
    func savedCount(rows: Int) -> Int { rows * outputSize }
    /// Every input position lies in exactly one window.
    private var tiles: Bool { stride == size && outHeight * size == inHeight && outWidth * size == inWidth }

    func forward(_ pass: LayerPass, randomness: inout SeededGenerator?) {
        let c = channels
        var out = 0
        for sample in 0..<pass.rows {
            let image = pass.input + sample * inputSize
            for oh in 0..<outHeight {
                for ow in 0..<outWidth {
                    poolWindow(
                        UnsafeRawPointer(image + ((oh * stride) * inWidth + ow * stride) * c),
                        into: UnsafeMutableRawPointer(pass.output + out), positions: UnsafeMutableRawPointer(pass.saved + out))
                    out += c
                }
            }
        }
    }

    /// One window's maximum and its position per channel; eight channels at a time, the last
    /// (partial) group overlapping the one before it when there are at least eight channels
    /// (writing the same values twice).
    @inline(__always)
    private func poolWindow(_ input: UnsafeRawPointer, into output: UnsafeMutableRawPointer, positions: UnsafeMutableRawPointer) {
        let c = channels
        let row = inWidth * c * 4
        @inline(__always) func group(_ k: Int) {
            var best = input.loadUnaligned(fromByteOffset: k * 4, as: SIMD8<Float>.self)
            var position = SIMD8<Float>(repeating: 0)
            @inline(__always) func consider(_ offset: Int, _ at: Float) {
                let v = input.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                let take = v .> best .| v .!= v
                best.replace(with: v, where: take)
                position.replace(with: at, where: take)
            }
            if size == 2 {
                // The common 2x2 window, unrolled.
                consider((c + k) * 4, 1)
                consider(row + k * 4, 2)
                consider(row + (c + k) * 4, 3)
            } else {
                for i in 0..<size {
                    for j in 0..<size where i != 0 || j != 0 { consider(i * row + (j * c + k) * 4, Float(i * size + j)) }
                }
            }
            if rectified {
                let off = best .<= 0
                best.replace(with: 0, where: off)
                position.replace(with: -1, where: off)
            }
            output.storeBytes(of: best, toByteOffset: k * 4, as: SIMD8<Float>.self)
            positions.storeBytes(of: position, toByteOffset: k * 4, as: SIMD8<Float>.self)
        }
        var k = 0
        while k + 8 <= c {
            group(k)
            k += 8
        }
        guard k < c else { return }
        if c >= 8 {
            group(c - 8)
            return
        }
        let values = input.assumingMemoryBound(to: Float.self)
        let target = output.assumingMemoryBound(to: Float.self)
        let where_ = positions.assumingMemoryBound(to: Float.self)
        let rowFloats = inWidth * c
        for k in 0..<c {
            var best = values[k]
            var position: Float = 0
            for i in 0..<size {
                for j in 0..<size where i != 0 || j != 0 {
                    let v = values[i * rowFloats + j * c + k]
                    if v > best || v != v {
                        best = v
                        position = Float(i * size + j)
                    }
                }
            }
            if rectified && best <= 0 {
                best = 0
                position = -1
            }
            target[k] = best
            where_[k] = position
        }
    }

    func backward(
        _ pass: LayerPass, outputDelta: UnsafeMutablePointer<Float>, inputDelta: UnsafeMutablePointer<Float>?,
        target: UnsafeMutablePointer<Float>, alpha: Float, beta: Float
    ) {
        guard let inputDelta else { return }
        let c = channels
        // Separate windows write their positions; overlapping ones add up. Positions outside
        // every window (a dropped border, gaps) stay 0.
        let overlapping = stride < size
        if !tiles { inputDelta.update(repeating: 0, count: pass.rows * inputSize) }
        var out = 0
        for sample in 0..<pass.rows {
            let imageDelta = inputDelta + sample * inputSize
            for oh in 0..<outHeight {
                for ow in 0..<outWidth {
                    routeWindow(
                        delta: UnsafeRawPointer(outputDelta + out), positions: UnsafeRawPointer(pass.saved + out),
                        into: UnsafeMutableRawPointer(imageDelta + ((oh * stride) * inWidth + ow * stride) * c),
                        accumulate: overlapping)
                    out += c
                }
            }
        }
    }

    /// One window: `target[p] (+)= delta` at the kept position `p`, 0 at the others.
    @inline(__always)
    private func routeWindow(
        delta: UnsafeRawPointer, positions: UnsafeRawPointer, into target: UnsafeMutableRawPointer, accumulate: Bool
    ) {
        let c = channels
        let row = inWidth * c * 4
        @inline(__always) func group(_ k: Int) {
            let d = delta.loadUnaligned(fromByteOffset: k * 4, as: SIMD8<Float>.self)
            let position = positions.loadUnaligned(fromByteOffset: k * 4, as: SIMD8<Float>.self)
            @inline(__always) func route(_ at: Int, _ p: Float) {
                var routed = SIMD8<Float>(repeating: 0)
                routed.replace(with: d, where: position .== p)
                if accumulate { routed += target.loadUnaligned(fromByteOffset: at, as: SIMD8<Float>.self) }
                target.storeBytes(of: routed, toByteOffset: at, as: SIMD8<Float>.self)
            }
            if size == 2 {
                route(k * 4, 0)
                route((c + k) * 4, 1)
                route(row + k * 4, 2)
                route(row + (c + k) * 4, 3)
            } else {
                for i in 0..<size {
                    for j in 0..<size { route(i * row + (j * c + k) * 4, Float(i * size + j)) }
                }
            }
        }
        var k = 0
        while k + 8 <= c {
            group(k)
            k += 8
        }
        guard k < c else { return }
        if c >= 8 && !accumulate {
            group(c - 8)
            return
        }
        let d = delta.assumingMemoryBound(to: Float.self)
        let kept = positions.assumingMemoryBound(to: Float.self)
        let out = target.assumingMemoryBound(to: Float.self)
        let rowFloats = inWidth * c
        while k < c {
            for i in 0..<size {
                for j in 0..<size {
                    let at = i * rowFloats + j * c + k
                    let routed: Float = kept[k] == Float(i * size + j) ? d[k] : 0
                    out[at] = accumulate ? out[at] + routed : routed
                }
            }
            k += 1
        }
    }
}
