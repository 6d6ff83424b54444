import FedArenaCore
import FedArenaNumerics
import Foundation

/// A class-conditional variational auto-encoder (Kingma and Welling 2014, "Auto-encoding
/// variational Bayes", ICLR; conditioning as in Sohn, Lee and Yan 2015, "Learning structured
/// output representation using deep conditional generative models", NeurIPS) with one hidden
/// ReLU layer on each side, trained with Adam (Kingma and Ba 2015, "Adam: a method for
/// stochastic optimization", ICLR).
///
/// ```
/// encoder  h = ReLU(x W1 + E1[y] + b1)           x: d, one-hot y enters as the row E1[y]
///          [μ, log σ²] = h W2 + b2               2 x latent
///          z = μ + σ ⊙ ε,  ε ~ N(0, I)            (reparameterisation)
/// decoder  g = ReLU(z W3 + E3[y] + b3)
///          x̂ = sigmoid(g W4 + b4)                d
/// loss     Σ_j BCE(x_j, x̂_j) + KL(N(μ, σ²) ‖ N(0, I)),  averaged over the batch
/// ```
///
/// The forward and backward passes are written by hand with BLAS `sgemm` (the Models target's
/// layers end in a softmax classifier). Parameter layout (one flat vector, row-major blocks):
/// `W1 (d x H), E1 (C x H), b1 (H), W2 (H x 2L), b2 (2L), W3 (L x H), E3 (C x H), b3 (H),
/// W4 (H x d), b4 (d)`. Initialisation: weights `N(0, 2/fan_in)` before a ReLU and
/// `N(0, 1/fan_in)` otherwise (He et al. 2015), drawn block by block from the fit's generator;
/// biases 0 except `b4 = logit` of the clipped mean pixel of the training set. Each epoch
/// shuffles the samples with a permutation from that generator and draws `ε` from it, batch by
/// batch.
///
/// A sample of class `y` at temperature `T` decodes `z ~ N(0, T² I)` and returns the Bernoulli
/// means `x̂` (not binarised draws), which lie in (0, 1).
public struct ConditionalVAE: Generator, Equatable {
    public var name: String { "vae" }
    /// The latent dimension `L`.
    public let latent: Int
    /// The hidden width `H` of the encoder and of the decoder.
    public let hidden: Int
    /// Passes over the training set.
    public let epochs: Int
    /// Samples per Adam step.
    public let batchSize: Int
    /// Adam's step size.
    public let learningRate: Double
    /// The trained parameters in the documented layout; empty before fitting.
    public private(set) var parameters: [Float] = []
    /// The mean per-sample loss (negative ELBO, nats) of every epoch, as trained.
    public private(set) var lossHistory: [Double] = []
    /// Samples per class at fit time (labels for `label: nil` follow these frequencies).
    public private(set) var classCounts: [Int] = []
    /// Features per sample, 0 before fitting.
    public private(set) var featureCount = 0

    /// Creates an untrained VAE.
    /// - Parameters:
    ///   - latent: `L` ≥ 1.
    ///   - hidden: `H` ≥ 1.
    ///   - epochs: ≥ 1.
    ///   - batchSize: ≥ 1.
    ///   - learningRate: Adam's step, finite and > 0.
    /// - Throws: ``GeneratorError`` for values out of range.
    public init(latent: Int = 8, hidden: Int = 256, epochs: Int = 30, batchSize: Int = 32, learningRate: Double = 5e-3) throws(GeneratorError) {
        guard latent >= 1, hidden >= 1 else { throw GeneratorError("vae: latent and hidden must be ≥ 1, got \(latent) and \(hidden)") }
        guard epochs >= 1, batchSize >= 1 else { throw GeneratorError("vae: epochs and batch size must be ≥ 1, got \(epochs) and \(batchSize)") }
        guard learningRate > 0, learningRate.isFinite else { throw GeneratorError("vae: learning rate must be finite and > 0, got \(learningRate)") }
        self.latent = latent
        self.hidden = hidden
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
    }

    /// Offsets of the parameter blocks for `d` features and `C` classes.
    struct Layout {
        let d, classes, hidden, latent: Int
        var w1: Int { 0 }
        var e1: Int { w1 + d * hidden }
        var b1: Int { e1 + classes * hidden }
        var w2: Int { b1 + hidden }
        var b2: Int { w2 + hidden * 2 * latent }
        var w3: Int { b2 + 2 * latent }
        var e3: Int { w3 + latent * hidden }
        var b3: Int { e3 + classes * hidden }
        var w4: Int { b3 + hidden }
        var b4: Int { w4 + hidden * d }
        var count: Int { b4 + d }
    }

    func layout(d: Int, classes: Int) -> Layout { Layout(d: d, classes: classes, hidden: hidden, latent: latent) }

    /// Trains on `samples` from a fresh initialisation.
    /// - Throws: ``GeneratorError`` for an empty or malformed set, or a loss that stops being finite.
    public mutating func fit(_ samples: LabeledSamples, using rng: inout some RandomNumberGenerator) throws(GeneratorError) {
        try ClassSplit.validate(samples, generator: name)
        let d = samples.featureCount
        let shape = layout(d: d, classes: samples.classCount)
        var theta = [Float](repeating: 0, count: shape.count)
        func fill(_ offset: Int, _ count: Int, fanIn: Int, gain: Double, _ rng: inout some RandomNumberGenerator) {
            let std = Float((gain / Double(fanIn)).squareRoot())
            let draws = rng.standardNormals(count)
            for i in 0..<count { theta[offset + i] = draws[i] * std }
        }
        fill(shape.w1, d * hidden, fanIn: d + 1, gain: 2, &rng)
        fill(shape.e1, samples.classCount * hidden, fanIn: d + 1, gain: 2, &rng)
        fill(shape.w2, hidden * 2 * latent, fanIn: hidden, gain: 1, &rng)
        fill(shape.w3, latent * hidden, fanIn: latent + 1, gain: 2, &rng)
        fill(shape.e3, samples.classCount * hidden, fanIn: latent + 1, gain: 2, &rng)
        fill(shape.w4, hidden * d, fanIn: hidden, gain: 1, &rng)
        var pixelMean = [Double](repeating: 0, count: d)
        for i in 0..<samples.count { for j in 0..<d { pixelMean[j] += Double(samples.features[i * d + j]) } }
        for j in 0..<d {
            let p = min(max(pixelMean[j] / Double(samples.count), 1e-3), 1 - 1e-3)
            theta[shape.b4 + j] = Float(log(p / (1 - p)))
        }

        var trainer = VAETrainer(shape: shape, batch: min(batchSize, samples.count), learningRate: Float(learningRate))
        var history = [Double]()
        for epoch in 0..<epochs {
            let order = rng.shuffledIndices(samples.count)
            var total = 0.0
            var start = 0
            while start < samples.count {
                let rows = Array(order[start..<min(start + batchSize, samples.count)])
                total += trainer.step(&theta, samples: samples, rows: rows, using: &rng) * Double(rows.count)
                start += batchSize
            }
            let loss = total / Double(samples.count)
            guard loss.isFinite else { throw GeneratorError("vae: the loss became \(loss) in epoch \(epoch); lower the learning rate") }
            history.append(loss)
        }
        parameters = theta
        lossHistory = history
        classCounts = samples.classHistogram
        featureCount = d
    }

    public func sample(count: Int, label: Int?, temperature: Double, using rng: inout some RandomNumberGenerator) throws(GeneratorError) -> LabeledSamples {
        guard temperature.isFinite, temperature >= 0 else { throw GeneratorError("vae: temperature must be finite and ≥ 0, got \(temperature)") }
        let labels = try LabelPlan.labels(
            count: count, label: label, classCounts: classCounts, fitted: classCounts.map { $0 > 0 }, generator: name, using: &rng)
        let z = rng.standardNormals(count * latent).map { $0 * Float(temperature) }
        let features = decode(z, labels: labels)
        return LabeledSamples(features: features, labels: labels, featureCount: featureCount, classCount: classCounts.count)
    }

    /// Decodes latent codes (`rows x latent`) with their labels into Bernoulli means.
    /// - Precondition: the model is fitted.
    public func decode(_ z: [Float], labels: [Int32]) -> [Float] {
        let shape = layout(d: featureCount, classes: classCounts.count)
        let n = labels.count
        precondition(z.count == n * latent && parameters.count == shape.count, "vae.decode: unfitted or wrong shape")
        var g = [Float](repeating: 0, count: n * hidden)
        var out = [Float](repeating: 0, count: n * featureCount)
        guard n > 0 else { return out }
        parameters.withUnsafeBufferPointer { pt in
            let p = pt.baseAddress!
            z.withUnsafeBufferPointer { pz in
                g.withUnsafeMutableBufferPointer { pg in
                    BLAS.sgemm(m: n, n: hidden, k: latent, a: pz.baseAddress!, b: p + shape.w3, c: pg.baseAddress!)
                    for i in 0..<n {
                        let row = pg.baseAddress! + i * hidden
                        let embedding = p + shape.e3 + Int(labels[i]) * hidden
                        for j in 0..<hidden { row[j] = max(row[j] + embedding[j] + p[shape.b3 + j], 0) }
                    }
                    out.withUnsafeMutableBufferPointer { po in
                        BLAS.sgemm(m: n, n: featureCount, k: hidden, a: pg.baseAddress!, b: p + shape.w4, c: po.baseAddress!)
                        for i in 0..<n {
                            for j in 0..<featureCount {
                                po[i * featureCount + j] = 1 / (1 + exp(-(po[i * featureCount + j] + p[shape.b4 + j])))
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}

/// The working memory and Adam state of one ``ConditionalVAE`` fit.
struct VAETrainer {
    let shape: ConditionalVAE.Layout
    let learningRate: Float
    var gradient, m, v: [Float]
    var x, h, stats, z, eps, g, o, dO, dG, dZ, dP, dH: [Float]
    var labels: [Int32]
    var step = 0

    init(shape: ConditionalVAE.Layout, batch: Int, learningRate: Float) {
        self.shape = shape
        self.learningRate = learningRate
        gradient = [Float](repeating: 0, count: shape.count)
        m = gradient
        v = gradient
        let zeros = { (n: Int) in [Float](repeating: 0, count: n) }
        x = zeros(batch * shape.d)
        h = zeros(batch * shape.hidden)
        stats = zeros(batch * 2 * shape.latent)
        z = zeros(batch * shape.latent)
        eps = zeros(batch * shape.latent)
        g = zeros(batch * shape.hidden)
        o = zeros(batch * shape.d)
        dO = zeros(batch * shape.d)
        dG = zeros(batch * shape.hidden)
        dZ = zeros(batch * shape.latent)
        dP = zeros(batch * 2 * shape.latent)
        dH = zeros(batch * shape.hidden)
        labels = [Int32](repeating: 0, count: batch)
    }

    /// One Adam step on the samples at `rows`; returns the batch's mean loss before the step.
    mutating func step(_ theta: inout [Float], samples: LabeledSamples, rows: [Int], using rng: inout some RandomNumberGenerator) -> Double {
        let noise = rng.standardNormals(rows.count * shape.latent)
        let loss = lossAndGradient(theta, samples: samples, rows: rows, noise: noise)
        adam(&theta)
        return loss
    }

    /// The batch's mean loss at `theta` with the given reparameterisation noise (`rows x latent`),
    /// leaving its gradient in ``gradient``.
    mutating func lossAndGradient(_ theta: [Float], samples: LabeledSamples, rows: [Int], noise: [Float]) -> Double {
        let b = rows.count
        let (d, hid, lat) = (shape.d, shape.hidden, shape.latent)
        for (r, index) in rows.enumerated() {
            for j in 0..<d { x[r * d + j] = samples.features[index * d + j] }
            labels[r] = samples.labels[index]
        }
        for i in 0..<(b * lat) { eps[i] = noise[i] }
        let s = shape
        let scale = 1 / Float(b)
        var loss = 0.0
        theta.withUnsafeBufferPointer { pt in
        gradient.withUnsafeMutableBufferPointer { pg in
        x.withUnsafeMutableBufferPointer { px in
        h.withUnsafeMutableBufferPointer { ph in
        stats.withUnsafeMutableBufferPointer { pstats in
        z.withUnsafeMutableBufferPointer { pz in
        g.withUnsafeMutableBufferPointer { pgg in
        o.withUnsafeMutableBufferPointer { po in
        dO.withUnsafeMutableBufferPointer { pdO in
        dG.withUnsafeMutableBufferPointer { pdG in
        dZ.withUnsafeMutableBufferPointer { pdZ in
        dP.withUnsafeMutableBufferPointer { pdP in
        dH.withUnsafeMutableBufferPointer { pdH in
            let t = pt.baseAddress!, gr = pg.baseAddress!
            let X = px.baseAddress!, H = ph.baseAddress!, P = pstats.baseAddress!, Z = pz.baseAddress!
            let G = pgg.baseAddress!, O = po.baseAddress!
            let DO = pdO.baseAddress!, DG = pdG.baseAddress!, DZ = pdZ.baseAddress!, DP = pdP.baseAddress!, DH = pdH.baseAddress!
            // Forward: encoder.
            BLAS.sgemm(m: b, n: hid, k: d, a: X, b: t + s.w1, c: H)
            for i in 0..<b {
                let e = t + s.e1 + Int(labels[i]) * hid
                for j in 0..<hid { H[i * hid + j] = max(H[i * hid + j] + e[j] + t[s.b1 + j], 0) }
            }
            BLAS.sgemm(m: b, n: 2 * lat, k: hid, a: H, b: t + s.w2, c: P)
            var kl = 0.0
            for i in 0..<b {
                for j in 0..<(2 * lat) { P[i * 2 * lat + j] += t[s.b2 + j] }
                for j in 0..<lat {
                    let mu = P[i * 2 * lat + j]
                    let logVar = min(max(P[i * 2 * lat + lat + j], -12), 12)
                    Z[i * lat + j] = mu + exp(0.5 * logVar) * eps[i * lat + j]
                    kl += -0.5 * Double(1 + logVar - mu * mu - exp(logVar))
                }
            }
            // Forward: decoder.
            BLAS.sgemm(m: b, n: hid, k: lat, a: Z, b: t + s.w3, c: G)
            for i in 0..<b {
                let e = t + s.e3 + Int(labels[i]) * hid
                for j in 0..<hid { G[i * hid + j] = max(G[i * hid + j] + e[j] + t[s.b3 + j], 0) }
            }
            BLAS.sgemm(m: b, n: d, k: hid, a: G, b: t + s.w4, c: O)
            var reconstruction = 0.0
            for i in 0..<b {
                var rowLoss: Float = 0
                for j in 0..<d {
                    let logit = O[i * d + j] + t[s.b4 + j]
                    let target = X[i * d + j]
                    // BCE with logits: softplus(l) − x·l, computed stably.
                    rowLoss += max(logit, 0) - logit * target + log1p(exp(-abs(logit)))
                    DO[i * d + j] = (1 / (1 + exp(-logit)) - target) * scale
                }
                reconstruction += Double(rowLoss)
            }
            loss = (reconstruction + kl) / Double(b)

            // Backward: decoder.
            pg.update(repeating: 0)
            BLAS.sgemm(transposeA: true, m: hid, n: d, k: b, a: G, b: DO, beta: 0, c: gr + s.w4)
            for i in 0..<b { for j in 0..<d { gr[s.b4 + j] += DO[i * d + j] } }
            BLAS.sgemm(transposeB: true, m: b, n: hid, k: d, a: DO, b: t + s.w4, c: DG)
            for i in 0..<(b * hid) where G[i] <= 0 { DG[i] = 0 }
            BLAS.sgemm(transposeA: true, m: lat, n: hid, k: b, a: Z, b: DG, c: gr + s.w3)
            for i in 0..<b {
                let e = gr + s.e3 + Int(labels[i]) * hid
                for j in 0..<hid { e[j] += DG[i * hid + j]; gr[s.b3 + j] += DG[i * hid + j] }
            }
            BLAS.sgemm(transposeB: true, m: b, n: lat, k: hid, a: DG, b: t + s.w3, c: DZ)
            // Backward: reparameterisation and KL.
            for i in 0..<b {
                for j in 0..<lat {
                    let mu = P[i * 2 * lat + j]
                    let raw = P[i * 2 * lat + lat + j]
                    let logVar = min(max(raw, -12), 12)
                    let sigma = exp(0.5 * logVar)
                    DP[i * 2 * lat + j] = DZ[i * lat + j] + mu * scale
                    let inside: Float = raw == logVar ? 1 : 0
                    DP[i * 2 * lat + lat + j] = inside * (DZ[i * lat + j] * eps[i * lat + j] * 0.5 * sigma + 0.5 * (sigma * sigma - 1) * scale)
                }
            }
            // Backward: encoder.
            BLAS.sgemm(transposeA: true, m: hid, n: 2 * lat, k: b, a: H, b: DP, c: gr + s.w2)
            for i in 0..<b { for j in 0..<(2 * lat) { gr[s.b2 + j] += DP[i * 2 * lat + j] } }
            BLAS.sgemm(transposeB: true, m: b, n: hid, k: 2 * lat, a: DP, b: t + s.w2, c: DH)
            for i in 0..<(b * hid) where H[i] <= 0 { DH[i] = 0 }
            BLAS.sgemm(transposeA: true, m: d, n: hid, k: b, a: X, b: DH, c: gr + s.w1)
            for i in 0..<b {
                let e = gr + s.e1 + Int(labels[i]) * hid
                for j in 0..<hid { e[j] += DH[i * hid + j]; gr[s.b1 + j] += DH[i * hid + j] }
            }
        }}}}}}}}}}}}}
        return loss
    }

    /// Adam with β₁ = 0.9, β₂ = 0.999, ε = 1e-8 and bias correction (Kingma and Ba 2015, Alg. 1).
    private mutating func adam(_ theta: inout [Float]) {
        step += 1
        let beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8
        let correction1 = 1 - pow(beta1, Float(step))
        let correction2 = 1 - pow(beta2, Float(step))
        let stepSize = learningRate * correction2.squareRoot() / correction1
        theta.withUnsafeMutableBufferPointer { pt in
            gradient.withUnsafeBufferPointer { pg in
                m.withUnsafeMutableBufferPointer { pm in
                    v.withUnsafeMutableBufferPointer { pv in
                        for i in 0..<pt.count {
                            let grad = pg[i]
                            pm[i] = beta1 * pm[i] + (1 - beta1) * grad
                            pv[i] = beta2 * pv[i] + (1 - beta2) * grad * grad
                            pt[i] -= stepSize * pm[i] / (pv[i].squareRoot() + epsilon * correction2.squareRoot())
                        }
                    }
                }
            }
        }
    }
}
