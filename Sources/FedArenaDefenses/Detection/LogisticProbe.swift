import FedArenaNumerics
import Foundation

/// A binary L2-regularised logistic regression trained by Nesterov-accelerated full-batch
/// gradient descent (BLAS `sgemv`), with class-balanced weights: the real-vs-synthetic
/// classifier of the C2ST audits (Lopez-Paz and Oquab 2017).
struct LogisticProbe: Sendable {
    var weights: [Float]
    var bias: Float

    /// Trains on `rows x columns` features with 0/1 targets.
    static func train(features: [Float], targets: [Float], columns: Int, l2: Double, iterations: Int) -> LogisticProbe {
        let rows = targets.count
        precondition(features.count == rows * columns, "probe: shape mismatch")
        let positives = Double(targets.reduce(0, +))
        let negatives = Double(rows) - positives
        guard positives > 0, negatives > 0 else {
            return LogisticProbe(weights: [Float](repeating: 0, count: columns), bias: positives > 0 ? 10 : -10)
        }
        // Balanced sample weights summing to 1.
        let sampleWeights = targets.map { Float($0 > 0.5 ? 0.5 / positives : 0.5 / negatives) }
        var largest = 0.0
        for r in 0..<rows { largest = max(largest, VectorMath.sumOfSquares(Array(features[(r * columns)..<((r + 1) * columns)]))) }
        let step = Float(1 / (0.25 * (largest + 1) + l2))
        var w = [Float](repeating: 0, count: columns)
        var b: Float = 0
        var previousW = w
        var previousB = b
        var logits = [Float](repeating: 0, count: rows)
        var gradient = [Float](repeating: 0, count: columns)
        for iteration in 0..<iterations {
            let momentum = Float(iteration) / Float(iteration + 3)
            var lookW = w
            for j in 0..<columns { lookW[j] += momentum * (w[j] - previousW[j]) }
            let lookB = b + momentum * (b - previousB)
            features.withUnsafeBufferPointer { x in
                lookW.withUnsafeBufferPointer { pw in
                    logits.withUnsafeMutableBufferPointer { z in
                        BLAS.sgemv(rows: rows, columns: columns, a: x.baseAddress!, x: pw.baseAddress!, y: z.baseAddress!)
                    }
                }
            }
            var biasGradient: Float = 0
            for r in 0..<rows {
                let p = 1 / (1 + exp(-(logits[r] + lookB)))
                logits[r] = sampleWeights[r] * (p - targets[r])
                biasGradient += logits[r]
            }
            features.withUnsafeBufferPointer { x in
                logits.withUnsafeBufferPointer { residual in
                    gradient.withUnsafeMutableBufferPointer { g in
                        BLAS.sgemv(transpose: true, rows: rows, columns: columns, a: x.baseAddress!, x: residual.baseAddress!, y: g.baseAddress!)
                    }
                }
            }
            previousW = w
            previousB = b
            for j in 0..<columns { w[j] = lookW[j] - step * (gradient[j] + Float(l2) * lookW[j]) }
            b = lookB - step * biasGradient
        }
        return LogisticProbe(weights: w, bias: b)
    }

    /// `P(target = 1 | x)` for `rows x columns` features.
    func probabilities(_ features: [Float], rows: Int) -> [Double] {
        guard rows > 0 else { return [] }
        var logits = [Float](repeating: 0, count: rows)
        features.withUnsafeBufferPointer { x in
            weights.withUnsafeBufferPointer { pw in
                logits.withUnsafeMutableBufferPointer { z in
                    BLAS.sgemv(rows: rows, columns: weights.count, a: x.baseAddress!, x: pw.baseAddress!, y: z.baseAddress!)
                }
            }
        }
        return logits.map { 1 / (1 + exp(-Double($0 + bias))) }
    }
}
