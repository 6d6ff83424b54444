import FedArenaNumerics

/// A 2-D convolution (cross-correlation, as in every deep-learning library) with zero padding,
/// computed as im2col + one `sgemm` for the whole batch (Chellapilla, Puri and Simard 2006,
/// "High performance convolutional neural networks for document processing").
///
/// Parameter layout: `W` as `kernel x kernel x inChannels x outChannels` (row-major, so a
/// `patch x outChannels` matrix with `patch = kernel² · inChannels`), then the bias `b`
/// (`outChannels`). Because `b` follows `W`, the two form one `(patch + 1) x outChannels`
/// matrix: each patch row carries a trailing 1, and a single product gives `x·W + b` forward and
/// `[dW; db]` backward.
///
/// Initialisation: He normal, `W ~ N(0, 2 / patch)` in the layout order (He et al. 2015,
/// "Delving deep into rectifiers", §2.2); `b = 0`.
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

    /// Values in one patch, `kernel² · inChannels`.
    var patch: Int { kernel * kernel * inChannels }
    /// A patch row with its trailing 1.
    var patchRow: Int { patch + 1 }
    var pixels: Int { outHeight * outWidth }

    var description: String { "conv\(kernel)x\(kernel) \(inChannels)→\(outChannels)" }
    var inputSize: Int { inHeight * inWidth * inChannels }
    var outputSize: Int { pixels * outChannels }
    var parameterCount: Int { patchRow * outChannels }
    func savedCount(rows: Int) -> Int { rows * pixels * patchRow }
    func temporaryCount(rows: Int) -> Int { propagatesDelta ? rows * pixels * patch : 0 }

    func trainingFLOPs(rows: Int) -> Double {
        let product = 2 * Double(rows * pixels) * Double(outChannels)
        return product * Double(2 * patchRow + (propagatesDelta ? patch : 0))
    }

    func initialize(_ parameters: UnsafeMutablePointer<Float>, using generator: inout SeededGenerator) {
        let std = (2.0 / Double(patch)).squareRoot()
        for index in 0..<(patch * outChannels) { parameters[index] = Float(generator.normal() * std) }
    }

    func forward(_ pass: LayerPass, randomness: inout SeededGenerator?) {
        let columns = pass.saved
        im2col(pass.input, rows: pass.rows, into: columns)
        BLAS.sgemm(
            m: pass.rows * pixels, n: outChannels, k: patchRow, a: columns, lda: patchRow, b: pass.parameters,
            ldb: outChannels, c: pass.output, ldc: outChannels)
    }

    func backward(
        _ pass: LayerPass, outputDelta: UnsafeMutablePointer<Float>, inputDelta: UnsafeMutablePointer<Float>?,
        target: UnsafeMutablePointer<Float>, alpha: Float, beta: Float
    ) {
        let positions = pass.rows * pixels
        if let inputDelta {
            precondition(propagatesDelta, "the network asked for an input delta it did not plan")
            // d(patches) = dY · Wᵀ (the bias row of W is not part of any patch), before W changes.
            let patchDelta = pass.temporary
            BLAS.sgemm(
                transposeB: true, m: positions, n: patch, k: outChannels, a: outputDelta, lda: outChannels,
                b: pass.parameters, ldb: outChannels, c: patchDelta, ldc: patch)
            col2im(patchDelta, rows: pass.rows, into: inputDelta)
        }
        // [dW; db] = [patches | 1]ᵀ · dY
        BLAS.sgemm(
            transposeA: true, m: patchRow, n: outChannels, k: positions, alpha: alpha, a: pass.saved, lda: patchRow,
            b: outputDelta, ldb: outChannels, beta: beta, c: target, ldc: outChannels)
    }

    /// Writes one `patchRow` row per output position: the `kernel x kernel x inChannels` window
    /// (zeros where it hangs over the padding), then 1.
    private func im2col(_ input: UnsafePointer<Float>, rows: Int, into columns: UnsafeMutablePointer<Float>) {
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

    /// The adjoint of ``im2col(_:rows:into:)``: sums every patch value back onto the input pixel
    /// it came from (padding positions are dropped).
    private func col2im(_ patches: UnsafePointer<Float>, rows: Int, into delta: UnsafeMutablePointer<Float>) {
        delta.update(repeating: 0, count: rows * inputSize)
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
