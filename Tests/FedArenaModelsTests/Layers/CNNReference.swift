import FedArenaCore
import FedArenaModels
import FedArenaNumerics
import Foundation
import Testing

/// A float64 reference of ``ConvolutionalNetwork`` written from its documentation only: naive
/// loops over tensors kept as `[channel][row][column]` (the data's order, not the network's
/// channels-last layout), reading the parameters in the documented order.
struct CNNReference {
    var inputShape: [Int]
    var layers: [LayerSpec]
    var classes: Int

    /// One sample's tensor: `values[(c * height + h) * width + w]`, or a plain vector.
    struct Tensor {
        var shape: [Int]
        var values: [Double]

        /// The documented flattening order of an image for a dense layer: height, width, channel.
        var flattened: [Double] {
            guard shape.count == 3 else { return values }
            let (channels, height, width) = (shape[0], shape[1], shape[2])
            var out = [Double]()
            for h in 0..<height {
                for w in 0..<width {
                    for c in 0..<channels { out.append(values[(c * height + h) * width + w]) }
                }
            }
            return out
        }
    }

    /// The logits of one sample; `masks[i]` (per listed dropout layer, in the network's
    /// channels-last order for images) multiplies that layer's output, none means no dropout.
    func logits(parameters: [Double], sample: [Double], masks: [[Double]] = []) -> [Double] {
        var x = Tensor(shape: inputShape, values: sample)
        var offset = 0
        var dropoutIndex = 0
        for layer in layers {
            switch layer {
            case .conv(let k, let outC, let s, let p):
                let (inC, h, w) = (x.shape[0], x.shape[1], x.shape[2])
                let oh = (h + 2 * p - k) / s + 1
                let ow = (w + 2 * p - k) / s + 1
                let bias = offset + k * k * inC * outC
                var y = [Double](repeating: 0, count: outC * oh * ow)
                for co in 0..<outC {
                    for i in 0..<oh {
                        for j in 0..<ow {
                            var sum = parameters[bias + co]
                            for kh in 0..<k {
                                for kw in 0..<k {
                                    let r = i * s + kh - p
                                    let c = j * s + kw - p
                                    guard r >= 0, r < h, c >= 0, c < w else { continue }
                                    for ci in 0..<inC {
                                        sum += x.values[(ci * h + r) * w + c] * parameters[offset + ((kh * k + kw) * inC + ci) * outC + co]
                                    }
                                }
                            }
                            y[(co * oh + i) * ow + j] = sum
                        }
                    }
                }
                offset = bias + outC
                x = Tensor(shape: [outC, oh, ow], values: y)
            case .maxPool(let size, let s):
                let (c, h, w) = (x.shape[0], x.shape[1], x.shape[2])
                let oh = (h - size) / s + 1
                let ow = (w - size) / s + 1
                var y = [Double](repeating: 0, count: c * oh * ow)
                for ch in 0..<c {
                    for i in 0..<oh {
                        for j in 0..<ow {
                            var best = -Double.infinity
                            for a in 0..<size {
                                for b in 0..<size { best = max(best, x.values[(ch * h + i * s + a) * w + j * s + b]) }
                            }
                            y[(ch * oh + i) * ow + j] = best
                        }
                    }
                }
                x = Tensor(shape: [c, oh, ow], values: y)
            case .relu:
                x.values = x.values.map { max($0, 0) }
            case .dense(let units):
                (x, offset) = Self.dense(x.flattened, units: units, parameters: parameters, offset: offset)
            case .dropout:
                if dropoutIndex < masks.count {
                    // The mask is in channels-last order; convert each position.
                    let mask = masks[dropoutIndex]
                    if x.shape.count == 3 {
                        let (c, h, w) = (x.shape[0], x.shape[1], x.shape[2])
                        for ch in 0..<c {
                            for i in 0..<h {
                                for j in 0..<w { x.values[(ch * h + i) * w + j] *= mask[(i * w + j) * c + ch] }
                            }
                        }
                    } else {
                        for i in x.values.indices { x.values[i] *= mask[i] }
                    }
                }
                dropoutIndex += 1
            case .flatten:
                x = Tensor(shape: [x.values.count], values: x.flattened)
            }
        }
        return Self.dense(x.flattened, units: classes, parameters: parameters, offset: offset).0.values
    }

    private static func dense(_ input: [Double], units: Int, parameters: [Double], offset: Int) -> (Tensor, Int) {
        let bias = offset + input.count * units
        var y = [Double](repeating: 0, count: units)
        for u in 0..<units {
            var sum = parameters[bias + u]
            for i in input.indices { sum += input[i] * parameters[offset + i * units + u] }
            y[u] = sum
        }
        return (Tensor(shape: [units], values: y), bias + units)
    }

    /// The mean softmax cross-entropy over `samples`; `masks[row]` are that row's dropout masks.
    func loss(parameters: [Double], samples: LabeledSamples, masks: [[[Double]]] = []) -> Double {
        var total = 0.0
        let features = samples.featureCount
        for row in 0..<samples.count {
            let sample = samples.features[(row * features)..<((row + 1) * features)].map(Double.init)
            let z = logits(parameters: parameters, sample: sample, masks: row < masks.count ? masks[row] : [])
            let maximum = z.max()!
            let logSumExp = maximum + log(z.reduce(0) { $0 + exp($1 - maximum) })
            total += logSumExp - z[Int(samples.labels[row])]
        }
        return total / Double(samples.count)
    }

    /// Checks the network's float32 gradient at `parameters` against central differences of
    /// this float64 reference, on every coordinate (or the listed ones).
    static func expectGradientMatches(
        layers: [LayerSpec], inputShape: [Int], classes: Int, rows: Int = 5, seed: UInt64 = 1, coordinates: [Int]? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let model = try ConvolutionalNetwork(inputShape: inputShape, layers: layers, classes: classes)
        let reference = CNNReference(inputShape: inputShape, layers: layers, classes: classes)
        var generator = SeededGenerator(seed: seed, stream: [7])
        var parameters = model.initialParameters(using: &generator).values
        // Non-zero biases everywhere, so every bias gradient is exercised away from the start.
        for index in parameters.indices where parameters[index] == 0 { parameters[index] = Float(generator.normal() * 0.1) }
        let count = model.inputCount
        let samples = Fixtures.randomSamples(count: rows, features: count, classes: classes, seed: seed + 100)
        let (loss, gradient) = try model.lossAndGradient(parameters: ParameterVector(parameters), on: samples)

        var point = parameters.map(Double.init)
        let exact = reference.loss(parameters: point, samples: samples)
        #expect(abs(loss - exact) < 1e-5 * max(1, exact), "loss \(loss) vs reference \(exact)", sourceLocation: sourceLocation)
        let epsilon = 1e-6
        for index in coordinates ?? Array(0..<model.parameterCount) {
            let saved = point[index]
            point[index] = saved + epsilon
            let plus = reference.loss(parameters: point, samples: samples)
            point[index] = saved - epsilon
            let minus = reference.loss(parameters: point, samples: samples)
            point[index] = saved
            let numeric = (plus - minus) / (2 * epsilon)
            let analytic = Double(gradient.values[index])
            #expect(
                abs(analytic - numeric) <= 1e-4 + 1e-3 * abs(numeric), "parameter \(index): \(analytic) vs \(numeric)",
                sourceLocation: sourceLocation)
        }
    }
}
