import FedArenaCore
import FedArenaModels
import FedArenaNumerics
import Foundation

/// Small data and a Double-precision reference of the dense network, shared by the model tests.
enum Fixtures {
    /// Mean softmax cross-entropy of a ReLU MLP with layer widths `widths`, in Double, reading
    /// the parameters in the documented layout (per layer: W row-major `fan_in x fan_out`, then b).
    static func referenceLoss(widths: [Int], parameters: [Double], inputs: [Double], labels: [Int32]) -> Double {
        let rows = labels.count
        var total = 0.0
        for row in 0..<rows {
            var activation = Array(inputs[(row * widths[0])..<((row + 1) * widths[0])])
            var offset = 0
            for layer in 0..<(widths.count - 1) {
                let fanIn = widths[layer], fanOut = widths[layer + 1]
                var output = [Double](repeating: 0, count: fanOut)
                for j in 0..<fanOut {
                    var sum = parameters[offset + fanIn * fanOut + j]
                    for i in 0..<fanIn { sum += activation[i] * parameters[offset + i * fanOut + j] }
                    output[j] = layer == widths.count - 2 ? sum : max(sum, 0)
                }
                offset += fanIn * fanOut + fanOut
                activation = output
            }
            let maximum = activation.max()!
            let logSumExp = maximum + log(activation.reduce(0) { $0 + exp($1 - maximum) })
            total += logSumExp - activation[Int(labels[row])]
        }
        return total / Double(rows)
    }

    /// Uniform features in [-1, 1) and uniform labels.
    static func randomSamples(count: Int, features: Int, classes: Int, seed: UInt64) -> LabeledSamples {
        var generator = SeededGenerator(seed: seed, stream: [1])
        let x = (0..<(count * features)).map { _ in Float(generator.unitDouble() * 2 - 1) }
        let y = (0..<count).map { _ in Int32(generator.uniform(below: classes)) }
        return LabeledSamples(features: x, labels: y, featureCount: features, classCount: classes)
    }

    /// Linearly separable Gaussian blobs: class `c` centred at `3 e_c` (unit noise), classes interleaved.
    static func blobs(classes: Int, features: Int, perClass: Int, seed: UInt64) -> LabeledSamples {
        var generator = SeededGenerator(seed: seed, stream: [2])
        var x = [Float]()
        var y = [Int32]()
        for index in 0..<(classes * perClass) {
            let label = index % classes
            for feature in 0..<features {
                x.append(Float(generator.normal() * 0.5 + (feature == label ? 3 : 0)))
            }
            y.append(Int32(label))
        }
        return LabeledSamples(features: x, labels: y, featureCount: features, classCount: classes)
    }
}
