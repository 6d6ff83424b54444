import FedArenaNumerics

/// A 2-D convolution (cross-correlation, as in every deep-learning library) with zero padding,
/// computed as im2col + `sgemm` (Chellapilla, Puri and Simard 2006, "High performance
/// convolutional neural networks for document processing").
///
/// Parameter layout: `W` as `kernel x kernel x inChannels x outChannels` (row-major, so a
/// `patch x outChannels` matrix with `patch = kernel² · inChannels`), then the bias `b`
/// (`outChannels`). Because `b` follows `W`, the two form one `(patch + 1) x outChannels`
/// matrix: each patch carries a trailing 1, and a single product gives `x·W + b` forward and
/// `[dW; db]` backward.
///
/// Patches are laid out one row per output position (`positions x (patch + 1)`: with several
/// input channels a patch row is `kernel` contiguous runs of `kernel · inChannels` values), or,
/// for a single input channel, one row per kernel tap (`(patch + 1) x positions`: each row is a
/// shifted copy of image rows, contiguous runs of `outWidth` values instead of `kernel`-long
/// scraps).
///
/// Initialisation: He normal, `W ~ N(0, 2 / patch)` in the layout order (He et al. 2015,
/// "Delving deep into rectifiers", §2.2); `b = 0`.
///
/// Memory traffic, not arithmetic, bounds a small convolution on a CPU, so both passes run over
/// blocks of a few samples whose patches (~512 KiB with their outputs and deltas) stay in the
/// cache, and the backward pass rebuilds each block's patches instead of keeping the whole
/// batch's from the forward pass. Over more than one block the weight gradient is summed in
/// scratch and applied at the end, so the input deltas of every block see the weights before
/// a fused SGD step.
struct Convolution: NetworkLayer {
    let inChannels: Int
    let inHeight: Int
    let inWidth: Int
    let kernel: Int
    let outChannels: Int
    let stride: Int
    let padding: Int
    let outHeight: Int
    let outWidth: Int
    /// Whether the backward pass computes the input delta (false for the first parametric layer).
    let propagatesDelta: Bool

    init(input: [Int], kernel: Int, channels: Int, stride: Int, padding: Int, propagatesDelta: Bool) {
        precondition(input.count == 3, "the network checked the shapes")
        inChannels = input[0]
        inHeight = input[1]
        inWidth = input[2]
        self.kernel = kernel
        outChannels = channels
        self.stride = stride
        self.padding = padding
        outHeight = (inHeight + 2 * padding - kernel) / stride + 1
        outWidth = (inWidth + 2 * padding - kernel) / stride + 1
        self.propagatesDelta = propagatesDelta
    }

    /// Patches as rows of taps (single input channel) instead of rows of positions.
    var tapMajor: Bool { inChannels == 1 }
    /// Values in one patch, `kernel² · inChannels`.
    var patch: Int { kernel * kernel * inChannels }
    /// A patch row with its trailing 1.
    var patchRow: Int { patch + 1 }
    var pixels: Int { outHeight * outWidth }

    var description: String { "conv\(kernel)x\(kernel) \(inChannels)→\(outChannels)" }
    var inputSize: Int { inHeight * inWidth * inChannels }
    var outputSize: Int { pixels * outChannels }
    var parameterCount: Int { patchRow * outChannels }
    /// Per block: patches, patch deltas; then the weight gradient of a multi-block batch.
    func temporaryCount(rows: Int) -> Int {
        min(rows, block) * pixels * (patchRow + (propagatesDelta ? patch : 0)) + (rows > block ? parameterCount : 0)
    }

    /// Samples per block: patches, patch deltas and outputs of about 512 KiB (measured on a 2 MiB
    /// L2: 4x larger blocks were 10-20% slower).
    private var block: Int { max(1, 131_072 / (pixels * (patchRow + patch + outChannels))) }

    func trainingFLOPs(rows: Int) -> Double {
        let product = 2 * Double(rows * pixels) * Double(outChannels)
        return product * Double(2 * patchRow + (propagatesDelta ? patch : 0))
    }

    func initialize(_ parameters: UnsafeMutablePointer<Float>, using generator: inout SeededGenerator) {
        let std = (2.0 / Double(patch)).squareRoot()
        for index in 0..<(patch * outChannels) { parameters[index] = Float(generator.normal() * std) }
    }

    func forward(_ pass: LayerPass, randomness: inout SeededGenerator?) {
        let columns = pass.temporary
        var start = 0
        while start < pass.rows {
            let count = min(block, pass.rows - start)
            let positions = count * pixels
            im2col(pass.input + start * inputSize, rows: count, into: columns)
            BLAS.sgemm(
                transposeA: tapMajor, m: positions, n: outChannels, k: patchRow, a: columns,
                lda: tapMajor ? positions : patchRow, b: pass.parameters, ldb: outChannels,
                c: pass.output + start * outputSize, ldc: outChannels)
            start += count
        }
    }

    func backward(
        _ pass: LayerPass, outputDelta: UnsafeMutablePointer<Float>, inputDelta: UnsafeMutablePointer<Float>?,
        target: UnsafeMutablePointer<Float>, alpha: Float, beta: Float
    ) {
        precondition(inputDelta == nil || propagatesDelta, "the network asked for an input delta it did not plan")
        let rows = pass.rows
        let single = rows <= block
        let columns = pass.temporary
        let patchDelta = columns + min(rows, block) * pixels * patchRow
        let gradient = single ? target : patchDelta + (propagatesDelta ? min(rows, block) * pixels * patch : 0)
        var start = 0
        while start < rows {
            let count = min(block, rows - start)
            let positions = count * pixels
            let delta = outputDelta + start * outputSize
            if let inputDelta {
                // d(patches) = dY · Wᵀ (the bias row of W is in no patch), before W changes.
                if tapMajor {
                    BLAS.sgemm(
                        transposeB: true, m: patch, n: positions, k: outChannels, a: pass.parameters, lda: outChannels,
                        b: delta, ldb: outChannels, c: patchDelta, ldc: positions)
                } else {
                    BLAS.sgemm(
                        transposeB: true, m: positions, n: patch, k: outChannels, a: delta, lda: outChannels,
                        b: pass.parameters, ldb: outChannels, c: patchDelta, ldc: patch)
                }
                col2im(patchDelta, rows: count, into: inputDelta + start * inputSize)
            }
            // [dW; db] (+)= [patches | 1]ᵀ · dY
            im2col(pass.input + start * inputSize, rows: count, into: columns)
            BLAS.sgemm(
                transposeA: !tapMajor, m: patchRow, n: outChannels, k: positions, alpha: single ? alpha : 1, a: columns,
                lda: tapMajor ? positions : patchRow, b: delta, ldb: outChannels,
                beta: single ? beta : (start == 0 ? 0 : 1), c: gradient, ldc: outChannels)
            start += count
        }
        if !single {
            VectorKernels.scaleAndAdd(target: target, beta: beta, alpha: alpha, source: gradient, count: parameterCount)
        }
    }

    /// The patches of `rows` samples with their trailing 1s, in the layer's layout.
    private func im2col(_ input: UnsafePointer<Float>, rows: Int, into columns: UnsafeMutablePointer<Float>) {
        if tapMajor {
            tapRows(input, rows: rows, into: columns)
        } else {
            positionRows(input, rows: rows, into: columns)
        }
    }

    /// The adjoint of ``im2col(_:rows:into:)``: sums every patch value back onto the input pixel
    /// it came from (padding positions are dropped).
    private func col2im(_ patches: UnsafePointer<Float>, rows: Int, into delta: UnsafeMutablePointer<Float>) {
        delta.update(repeating: 0, count: rows * inputSize)
        if tapMajor {
            addTapRows(patches, rows: rows, into: delta)
        } else {
            addPositionRows(patches, rows: rows, into: delta)
        }
    }

    /// The output columns `ow` whose tap at column offset `kw` lands inside the image, for stride 1.
    @inline(__always)
    private func validColumns(kw: Int) -> Range<Int> {
        let low = max(0, padding - kw)
        let high = min(outWidth, inWidth + padding - kw)
        return low..<max(low, high)
    }

    /// Tap-major patches (one input channel): row `t = kh · kernel + kw` holds, for every output
    /// position, the pixel under that tap; row `patch` is all 1.
    private func tapRows(_ input: UnsafePointer<Float>, rows: Int, into columns: UnsafeMutablePointer<Float>) {
        let positions = rows * pixels
        for kh in 0..<kernel {
            for kw in 0..<kernel {
                var target = columns + (kh * kernel + kw) * positions
                let valid = validColumns(kw: kw)
                for sample in 0..<rows {
                    let image = input + sample * inputSize
                    for oh in 0..<outHeight {
                        let ih = oh * stride + kh - padding
                        if ih < 0 || ih >= inHeight {
                            target.update(repeating: 0, count: outWidth)
                        } else if stride == 1 {
                            let source = image + ih * inWidth + kw - padding
                            for ow in 0..<valid.lowerBound { target[ow] = 0 }
                            VectorKernels.copy(source + valid.lowerBound, to: target + valid.lowerBound, count: valid.count)
                            for ow in valid.upperBound..<outWidth { target[ow] = 0 }
                        } else {
                            let source = image + ih * inWidth
                            for ow in 0..<outWidth {
                                let iw = ow * stride + kw - padding
                                target[ow] = iw >= 0 && iw < inWidth ? source[iw] : 0
                            }
                        }
                        target += outWidth
                    }
                }
            }
        }
        (columns + patch * positions).update(repeating: 1, count: positions)
    }

    private func addTapRows(_ patches: UnsafePointer<Float>, rows: Int, into delta: UnsafeMutablePointer<Float>) {
        let positions = rows * pixels
        for kh in 0..<kernel {
            for kw in 0..<kernel {
                var source = patches + (kh * kernel + kw) * positions
                let valid = validColumns(kw: kw)
                for sample in 0..<rows {
                    let image = delta + sample * inputSize
                    for oh in 0..<outHeight {
                        let ih = oh * stride + kh - padding
                        if ih >= 0 && ih < inHeight {
                            if stride == 1 {
                                VectorKernels.add(
                                    source + valid.lowerBound, into: image + ih * inWidth + kw - padding + valid.lowerBound,
                                    count: valid.count)
                            } else {
                                for ow in 0..<outWidth {
                                    let iw = ow * stride + kw - padding
                                    if iw >= 0 && iw < inWidth { image[ih * inWidth + iw] += source[ow] }
                                }
                            }
                        }
                        source += outWidth
                    }
                }
            }
        }
    }

    /// Position-major patches: one `patchRow` row per output position, the `kernel x kernel x
    /// inChannels` window (zeros where it hangs over the padding), then 1.
    private func positionRows(_ input: UnsafePointer<Float>, rows: Int, into columns: UnsafeMutablePointer<Float>) {
        let run = kernel * inChannels
        var row = columns
        for sample in 0..<rows {
            let image = input + sample * inputSize
            for oh in 0..<outHeight {
                let top = oh * stride - padding
                for ow in 0..<outWidth {
                    let left = ow * stride - padding
                    let inside = left >= 0 && left + kernel <= inWidth
                    for kh in 0..<kernel {
                        let target = row + kh * run
                        let ih = top + kh
                        if ih < 0 || ih >= inHeight {
                            target.update(repeating: 0, count: run)
                        } else if inside {
                            VectorKernels.copy(image + (ih * inWidth + left) * inChannels, to: target, count: run)
                        } else {
                            for kw in 0..<kernel {
                                let iw = left + kw
                                let slot = target + kw * inChannels
                                if iw < 0 || iw >= inWidth {
                                    slot.update(repeating: 0, count: inChannels)
                                } else {
                                    VectorKernels.copy(image + (ih * inWidth + iw) * inChannels, to: slot, count: inChannels)
                                }
                            }
                        }
                    }
                    row[patch] = 1
                    row += patchRow
                }
            }
        }
    }

    private func addPositionRows(_ patches: UnsafePointer<Float>, rows: Int, into delta: UnsafeMutablePointer<Float>) {
        let run = kernel * inChannels
        var row = patches
        for sample in 0..<rows {
            let image = delta + sample * inputSize
            for oh in 0..<outHeight {
                let top = oh * stride - padding
                for ow in 0..<outWidth {
                    let left = ow * stride - padding
                    let inside = left >= 0 && left + kernel <= inWidth
                    for kh in 0..<kernel {
                        let ih = top + kh
                        guard ih >= 0 && ih < inHeight else { continue }
                        let source = row + kh * run
                        if inside {
                            VectorKernels.add(source, into: image + (ih * inWidth + left) * inChannels, count: run)
                        } else {
                            for kw in 0..<kernel {
                                let iw = left + kw
                                guard iw >= 0 && iw < inWidth else { continue }
                                VectorKernels.add(
                                    source + kw * inChannels, into: image + (ih * inWidth + iw) * inChannels, count: inChannels)
                            }
                        }
                    }
                    row += patch
                }
            }
        }
    }
}
