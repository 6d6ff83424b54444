import FedArenaCore
import FedArenaModels
import FedArenaNumerics
import Foundation

/// Root-set audit: apply each update to the global model and test the result on the
/// coordinator's own clean root set, in the spirit of error-rate-based rejection (Fang et al.
/// 2020, "Local Model Poisoning Attacks to Byzantine-Robust Federated Learning", USENIX
/// Security) and FLTrust's root-update cosine (Cao et al. 2021, NDSS).
///
/// Per client `i`, with `w` the global model and `Δ_i` its update:
/// - `loss_increase = L_root(w + Δ_i) − L_root(w)` (mean cross-entropy);
/// - `worst_class_drop = max_c (acc_c(w) − acc_c(w + Δ_i))` over the root set's classes
///   (targeted poisoning hurts one class while the mean barely moves);
/// - `root_cosine = cos(Δ_i, Δ_root)` with the coordinator's update on its root set
///   (``DetectionContext/referenceUpdate``; skipped when absent).
///
/// Each feature is standardised across the round's clients with ``RobustZ`` (median / MAD, with
/// floors of 0.01 for the loss, 0.02 for class accuracy and 0.05 for the cosine), oriented so
/// that larger is worse (`−cosine`), and the largest `z` is mapped to [0, 1] by
/// ``RobustZ/suspicion(_:center:width:)``. The reason names that feature and its value.
/// An update whose model gives a non-finite loss scores 1.
///
/// YAML: `{kind: root-audit, z_center: 3, z_width: 1, chunk_size: 1000}`.
public struct RootAudit: Detector {
    /// The model the parameters belong to.
    public let model: any Model
    /// The `z` mapped to 0.5.
    public var zCenter: Double
    /// The logistic width.
    public var zWidth: Double
    /// Rows per forward pass.
    public var chunkSize: Int

    /// Creates the audit.
    /// - Throws: ``DetectionError`` for a non-positive width or chunk size.
    public init(model: any Model, zCenter: Double = 3, zWidth: Double = 1, chunkSize: Int = 1000) throws(DetectionError) {
        guard zWidth.isFinite, zWidth > 0, zCenter.isFinite else { throw DetectionError("root-audit needs z_width > 0, got \(zWidth)") }
        guard chunkSize > 0 else { throw DetectionError("root-audit needs chunk_size > 0, got \(chunkSize)") }
        self.model = model
        self.zCenter = zCenter
        self.zWidth = zWidth
        self.chunkSize = chunkSize
    }

    /// Creates the audit for a scenario's model.
    public init(
        spec: ModelSpec, inputs: Int = 784, classes: Int = 10, zCenter: Double = 3, zWidth: Double = 1, chunkSize: Int = 1000
    ) throws(DetectionError) {
        let model: any Model
        do throws(ModelError) { model = try spec.makeModel(inputs: inputs, classes: classes) } catch { throw DetectionError("root-audit: \(error)") }
        try self.init(model: model, zCenter: zCenter, zWidth: zWidth, chunkSize: chunkSize)
    }

    /// `root-audit`.
    public var name: String { "root-audit" }

    /// Needs the coordinator's own update on its root set.
    public var requirements: DetectorRequirements { DetectorRequirements(rootUpdate: true) }

    /// The raw features of one client.
    public struct Features: Sendable, Equatable {
        /// `L(w + Δ) − L(w)` on the root set.
        public var lossIncrease: Double
        /// The largest per-class accuracy drop, and its class.
        public var worstClassDrop: Double
        /// The class of ``worstClassDrop``.
        public var worstClass: Int
        /// `cos(Δ, Δ_root)`, or `nil` without a reference update.
        public var rootCosine: Double?
    }

    /// Evaluates every update on the root set (the detector's first half, public for tests).
    /// - Throws: ``DetectionError`` for an empty root set or shapes that do not fit the model.
    public func features(_ updates: [ClientUpdate], context: DetectionContext) throws(DetectionError) -> [Features] {
        guard context.rootSet.count > 0 else { throw DetectionError("root-audit needs a non-empty root set") }
        let evaluator: Evaluator
        let base: Evaluation
        do throws(ModelError) {
            evaluator = try Evaluator(model: model, chunkSize: chunkSize)
            base = try evaluator.evaluate(context.globalModel, on: context.rootSet)
        } catch {
            throw DetectionError("root-audit: \(error)")
        }
        let baseClass = base.perClassAccuracy
        let reference = context.referenceUpdate
        if let reference, reference.count != context.globalModel.count {
            throw DetectionError("root-audit: reference update has \(reference.count) values, the model \(context.globalModel.count)")
        }
        var result = [Features]()
        for update in updates {
            guard update.delta.count == context.globalModel.count else {
                throw DetectionError("root-audit: \(update.client) sent \(update.delta.count) values, the model has \(context.globalModel.count)")
            }
            var parameters = context.globalModel.values
            VectorMath.add(update.delta.values, into: &parameters)
            let evaluation: Evaluation
            do throws(ModelError) { evaluation = try evaluator.evaluate(ParameterVector(parameters), on: context.rootSet) } catch {
                throw DetectionError("root-audit: \(error)")
            }
            var worst = -Double.infinity
            var worstClass = 0
            for (c, after) in evaluation.perClassAccuracy.enumerated() {
                guard let after, let before = baseClass[c] else { continue }
                if before - after > worst { worst = before - after; worstClass = c }
            }
            let cosine = reference.map { Self.cosine(update.delta.values, $0.values) }
            result.append(Features(lossIncrease: evaluation.loss - base.loss, worstClassDrop: worst.isFinite ? worst : 0, worstClass: worstClass, rootCosine: cosine))
        }
        return result
    }

    public func detect(_ updates: [ClientUpdate], context: DetectionContext, using rng: inout some RandomNumberGenerator) throws(DetectionError) -> DetectionOutput {
        let raw = try features(updates, context: context)
        let lossZ = RobustZ.scores(raw.map { $0.lossIncrease.isFinite ? $0.lossIncrease : .nan }, minimumScale: 0.01)
        let classZ = RobustZ.scores(raw.map(\.worstClassDrop), minimumScale: 0.02)
        let hasCosine = raw.allSatisfy { $0.rootCosine != nil }
        let cosineZ = hasCosine ? RobustZ.scores(raw.map { -($0.rootCosine ?? 0) }, minimumScale: 0.05) : raw.map { _ in Double.nan }
        var suspicions = [ClientID: Suspicion]()
        for (index, update) in updates.enumerated() {
            let f = raw[index]
            var features: [String: Double] = [
                "loss_increase": f.lossIncrease, "worst_class_drop": f.worstClassDrop, "worst_class": Double(f.worstClass),
                "z_loss": lossZ[index], "z_class": classZ[index],
            ]
            if let cosine = f.rootCosine {
                features["root_cosine"] = cosine
                features["z_cosine"] = cosineZ[index]
            }
            guard f.lossIncrease.isFinite else {
                suspicions[update.client] = Suspicion(score: 1, reason: "the updated model's root-set loss is not finite", features: features)
                continue
            }
            let candidates: [(z: Double, text: String)] = [
                (lossZ[index], "loss on the root set rose by \(ReasonFormat.number(f.lossIncrease))"),
                (classZ[index], "accuracy on class \(f.worstClass) fell by \(ReasonFormat.number(f.worstClassDrop))"),
                (cosineZ[index], "cosine to the root update \(ReasonFormat.number(f.rootCosine ?? .nan))"),
            ]
            let best = candidates.filter { !$0.z.isNaN }.max { $0.z < $1.z } ?? (0, "no feature")
            let score = RobustZ.suspicion(best.z, center: zCenter, width: zWidth)
            suspicions[update.client] = Suspicion(score: score, reason: "\(best.text) (robust z \(ReasonFormat.number(best.z, 2)))", features: features)
        }
        return DetectionOutput(suspicions: suspicions)
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        let denominator = (VectorMath.sumOfSquares(a) * VectorMath.sumOfSquares(b)).squareRoot()
        return denominator > 0 ? VectorMath.dot(a, b) / denominator : 0
    }
}
