import Foundation

/// Softmax cross-entropy on a batch of logits, the loss of every model here.
enum SoftmaxCrossEntropy {
    /// The summed (not mean) loss `Σ logsumexp(z) − z_y`, computed stably; when `delta` is true
    /// the logits are replaced by the gradient of the mean loss with respect to them,
    /// `(softmax(z) − onehot(y)) / rows`.
    /// - Parameters:
    ///   - logits: `rows x classes` values, row-major.
    ///   - labels: `rows` labels in `0..<classes`.
    ///   - rows: the batch size.
    ///   - classes: the number of classes.
    ///   - delta: overwrite the logits with the output delta.
    /// - Returns: the summed loss.
    @inline(__always)
    static func loss(
        logits: UnsafeMutablePointer<Float>, labels: UnsafePointer<Int32>, rows: Int, classes: Int, delta: Bool
    ) -> Double {
        let batch = Float(rows)
        var total = 0.0
        for row in 0..<rows {
            let z = logits + row * classes
            var maximum = z[0]
            for j in 1..<max(classes, 1) where z[j] > maximum { maximum = z[j] }
            let label = Int(labels[row])
            assert(label >= 0 && label < classes, "label \(label) outside 0..<\(classes)")
            let target = z[label] - maximum
            var sum: Float = 0
            for j in 0..<classes {
                let e = Foundation.exp(z[j] - maximum)
                z[j] = e
                sum += e
            }
            total += Double(Foundation.log(sum) - target)
            if delta {
                for j in 0..<classes { z[j] /= sum }
                z[label] -= 1
                for j in 0..<classes { z[j] /= batch }
            }
        }
        return total
    }
}
