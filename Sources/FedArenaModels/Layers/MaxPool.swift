import FedArenaNumerics

/// Max pooling over `size x size` windows moved by `stride`, per channel (no padding; a partial
/// window at the border is dropped, like PyTorch's `max_pool2d`).
///
/// The backward pass routes each output's delta to the first position of its window (row-major
/// order) that holds the maximum, recomputing the maximum from the input rather than storing
/// indices. Where windows overlap (`stride < size`) the deltas of every window are summed.
struct MaxPool: NetworkLayer {
    let channels: Int
    let inHeight: Int
    let inWidth: Int
    let size: Int
    let stride: Int
    let outHeight: Int
    let outWidth: Int

    init(input: [Int], size: Int, stride: Int) {
        precondition(input.count == 3, "the network checked the shapes")
        channels = input[0]
        inHeight = input[1]
        inWidth = input[2]
        self.size = size
        self.stride = stride
        outHeight = (inHeight - size) / stride + 1
        outWidth = (inWidth - size) / stride + 1
    }

    var description: String { "maxpool\(size)/\(stride)" }
    var inputSize: Int { inHeight * inWidth * channels }
    var outputSize: Int { outHeight * outWidth * channels }
    /// Every input position lies in exactly one window.
    private var tiles: Bool { stride == size && outHeight * size == inHeight && outWidth * size == inWidth }

    func forward(_ pass: LayerPass, randomness: inout SeededGenerator?) {
        let c = channels
        var out = pass.output
        for sample in 0..<pass.rows {
            let image = pass.input + sample * inputSize
            for oh in 0..<outHeight {
                for ow in 0..<outWidth {
                    let corner = image + ((oh * stride) * inWidth + ow * stride) * c
                    out.update(from: corner, count: c)
                    for i in 0..<size {
                        for j in 0..<size where i != 0 || j != 0 {
                            Self.maximum(corner + (i * inWidth + j) * c, into: out, count: c)
                        }
                    }
                    out += c
                }
            }
        }
    }

    func backward(
        _ pass: LayerPass, outputDelta: UnsafeMutablePointer<Float>, inputDelta: UnsafeMutablePointer<Float>?,
        target: UnsafeMutablePointer<Float>, alpha: Float, beta: Float
    ) {
        guard let inputDelta else { return }
        let c = channels
        let tiles = self.tiles
        if !tiles { inputDelta.update(repeating: 0, count: pass.rows * inputSize) }
        var delta = UnsafePointer(outputDelta)
        for sample in 0..<pass.rows {
            let image = pass.input + sample * inputSize
            let imageDelta = inputDelta + sample * inputSize
            for oh in 0..<outHeight {
                for ow in 0..<outWidth {
                    let offset = ((oh * stride) * inWidth + ow * stride) * c
                    routeWindow(input: image + offset, delta: delta, into: imageDelta + offset, accumulate: !tiles)
                    delta += c
                }
            }
        }
    }

    /// One window: `target[p] (+)= delta` at the first position `p` of the maximum, 0 elsewhere.
    @inline(__always)
    private func routeWindow(
        input: UnsafePointer<Float>, delta: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        let c = channels
        let row = inWidth * c
        let rawInput = UnsafeRawPointer(input)
        let rawDelta = UnsafeRawPointer(delta)
        let rawTarget = UnsafeMutableRawPointer(target)
        var k = 0
        while k + 8 <= c {
            var best = rawInput.loadUnaligned(fromByteOffset: k * 4, as: SIMD8<Float>.self)
            for i in 0..<size {
                for j in 0..<size {
                    let v = rawInput.loadUnaligned(fromByteOffset: (i * row + j * c + k) * 4, as: SIMD8<Float>.self)
                    best.replace(with: v, where: v .> best)
                }
            }
            let d = rawDelta.loadUnaligned(fromByteOffset: k * 4, as: SIMD8<Float>.self)
            var open = SIMDMask<SIMD8<Float>.MaskStorage>(repeating: true)
            for i in 0..<size {
                for j in 0..<size {
                    let at = (i * row + j * c + k) * 4
                    let v = rawInput.loadUnaligned(fromByteOffset: at, as: SIMD8<Float>.self)
                    let hit = open .& (v .== best)
                    open = open .& .!hit
                    var routed = SIMD8<Float>(repeating: 0)
                    routed.replace(with: d, where: hit)
                    if accumulate { routed += rawTarget.loadUnaligned(fromByteOffset: at, as: SIMD8<Float>.self) }
                    rawTarget.storeBytes(of: routed, toByteOffset: at, as: SIMD8<Float>.self)
                }
            }
            k += 8
        }
        while k < c {
            var best = input[k]
            for i in 0..<size {
                for j in 0..<size where input[i * row + j * c + k] > best { best = input[i * row + j * c + k] }
            }
            var open = true
            for i in 0..<size {
                for j in 0..<size {
                    let at = i * row + j * c + k
                    let hit = open && input[at] == best
                    if hit { open = false }
                    let routed: Float = hit ? delta[k] : 0
                    target[at] = accumulate ? target[at] + routed : routed
                }
            }
            k += 1
        }
    }

    /// `target[k] = max(target[k], source[k])`, NaN in `source` propagating.
    @inline(__always)
    private static func maximum(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, count: Int) {
        let rawSource = UnsafeRawPointer(source)
        let rawTarget = UnsafeMutableRawPointer(target)
        var k = 0
        while k + 8 <= count {
            let v = rawSource.loadUnaligned(fromByteOffset: k * 4, as: SIMD8<Float>.self)
            var m = rawTarget.loadUnaligned(fromByteOffset: k * 4, as: SIMD8<Float>.self)
            m.replace(with: v, where: v .> m .| v .!= v)
            rawTarget.storeBytes(of: m, toByteOffset: k * 4, as: SIMD8<Float>.self)
            k += 8
        }
        while k < count {
            let v = source[k]
            if v > target[k] || v != v { target[k] = v }
            k += 1
        }
    }
}
