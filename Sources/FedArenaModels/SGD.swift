import FedArenaCore
import FedArenaNumerics

/// Stochastic gradient descent with optional momentum and L2 weight decay, with PyTorch's
/// `torch.optim.SGD` semantics (dampening 0, no Nesterov):
///
/// ```
/// g ← g + weightDecay · w
/// v ← momentum · v + g        (v starts at 0, so the first step has v = g)
/// w ← w − learningRate · v
/// ```
///
/// With `momentum == 0` this is `w ← w − learningRate · (g + weightDecay · w)` and the velocity
/// is scratch. The optimizer itself is a value; the velocity belongs to the caller (the
/// ``LocalTrainer`` keeps one per training call, reset to zero at its start).
public struct SGD: Sendable, Equatable {
    /// The step size.
    public var learningRate: Float
    /// The momentum factor μ in `[0, 1)`.
    public var momentum: Float
    /// The L2 penalty coefficient.
    public var weightDecay: Float

    /// Creates an optimizer.
    /// - Parameters:
    ///   - learningRate: the step size, finite and positive.
    ///   - momentum: μ in `[0, 1)`.
    ///   - weightDecay: the L2 coefficient, finite and non-negative.
    /// - Throws: ``ModelError/Code/invalidConfiguration`` for values out of range.
    public init(learningRate: Float, momentum: Float = 0, weightDecay: Float = 0) throws(ModelError) {
        guard learningRate.isFinite, learningRate > 0 else {
            throw ModelError(.invalidConfiguration, "SGD learning rate must be finite and positive, got \(learningRate)")
        }
        guard momentum >= 0, momentum < 1 else {
            throw ModelError(.invalidConfiguration, "SGD momentum must be in [0, 1), got \(momentum)")
        }
        guard weightDecay.isFinite, weightDecay >= 0 else {
            throw ModelError(.invalidConfiguration, "SGD weight decay must be finite and non-negative, got \(weightDecay)")
        }
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
    }

    /// Whether this is plain SGD (no momentum, no weight decay), which needs no velocity and
    /// can be fused into the backward pass (``Model/sgdStep(parameters:inputs:labels:learningRate:workspace:)``).
    public var isPlain: Bool { momentum == 0 && weightDecay == 0 }

    /// One step from a computed gradient (the reference form).
    /// - Parameters:
    ///   - parameters: `w`, updated in place.
    ///   - gradient: `g`, the gradient of the loss at `w`; same count.
    ///   - velocity: `v`, updated in place; same count; zero before the first step.
    public func step(
        parameters: UnsafeMutableBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>,
        velocity: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(
            parameters.count == gradient.count && parameters.count == velocity.count, "SGD.step: counts differ")
        for i in 0..<parameters.count {
            let g = gradient[i] + weightDecay * parameters[i]
            let v = momentum == 0 ? g : momentum * velocity[i] + g
            velocity[i] = v
            parameters[i] -= learningRate * v
        }
    }

    /// One step from a computed gradient (the reference form).
    /// - Parameters:
    ///   - parameters: `w`, updated in place.
    ///   - gradient: `g`, the gradient of the loss at `w`; same count.
    ///   - velocity: `v`, updated in place; same count; zero before the first step.
    public func step(parameters: inout [Float], gradient: [Float], velocity: inout [Float]) {
        gradient.withUnsafeBufferPointer { g in
            parameters.withUnsafeMutableBufferPointer { w in
                velocity.withUnsafeMutableBufferPointer { v in step(parameters: w, gradient: g, velocity: v) }
            }
        }
    }

    /// The first half of a step split around the gradient computation: `v ← μ v + λ w`, after
    /// which the model adds `g` into `v` (``Model/lossAndGradient(parameters:inputs:labels:gradient:scale:accumulate:workspace:)``
    /// with `accumulate: true`) and ``finishStep(parameters:velocity:)`` applies it. Saves two
    /// passes over the vector compared with ``step(parameters:gradient:velocity:)``.
    /// - Parameters:
    ///   - velocity: `v`, updated in place.
    ///   - parameters: `w`, read only.
    public func beginStep(velocity: UnsafeMutableBufferPointer<Float>, parameters: UnsafeBufferPointer<Float>) {
        if momentum == 0 {
            velocity.update(repeating: 0)
        } else {
            VectorMath.scale(velocity, by: momentum)
        }
        if weightDecay != 0 { VectorMath.axpy(weightDecay, parameters, into: velocity) }
    }

    /// The second half of a split step: `w ← w − learningRate · v`.
    /// - Parameters:
    ///   - parameters: `w`, updated in place.
    ///   - velocity: `v` holding `μ v + λ w + g`.
    public func finishStep(parameters: UnsafeMutableBufferPointer<Float>, velocity: UnsafeBufferPointer<Float>) {
        VectorMath.axpy(-learningRate, velocity, into: parameters)
    }
}
