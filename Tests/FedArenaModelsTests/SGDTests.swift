import FedArenaModels
import Testing

@Suite struct SGDTests {
    func run(_ optimizer: SGD, steps gradients: [[Float]]) -> [Float] {
        var parameters: [Float] = [1, -2]
        var velocity: [Float] = [0, 0]
        for gradient in gradients { optimizer.step(parameters: &parameters, gradient: gradient, velocity: &velocity) }
        return parameters
    }

    func expectClose(_ a: [Float], _ b: [Float]) {
        #expect(a.count == b.count)
        for (x, y) in zip(a, b) { #expect(abs(x - y) < 1e-6, "\(a) vs \(b)") }
    }

    @Test func plainStep() throws {
        expectClose(run(try SGD(learningRate: 0.1), steps: [[0.5, 0.25]]), [0.95, -2.025])
        #expect(try SGD(learningRate: 0.1).isPlain)
    }

    @Test func weightDecayAddsToTheGradient() throws {
        // g' = g + 0.01 w = [0.51, 0.23]
        expectClose(run(try SGD(learningRate: 0.1, weightDecay: 0.01), steps: [[0.5, 0.25]]), [0.949, -2.023])
    }

    @Test func momentumFollowsPyTorch() throws {
        // v1 = g = [0.5, 0.25], w1 = [0.95, -2.025]; v2 = 0.9 v1 + g = [0.95, 0.475], w2 = [0.855, -2.0725]
        expectClose(run(try SGD(learningRate: 0.1, momentum: 0.9), steps: [[0.5, 0.25], [0.5, 0.25]]), [0.855, -2.0725])
    }

    @Test func momentumWithWeightDecay() throws {
        // step 1: g' = [0.6, 0.05] = v1, w1 = [0.94, -2.005]
        // step 2: g' = [0.594, 0.0495], v2 = [1.134, 0.0945], w2 = [0.8266, -2.01445]
        let optimizer = try SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.1)
        expectClose(run(optimizer, steps: [[0.5, 0.25], [0.5, 0.25]]), [0.8266, -2.01445])
    }

    @Test func splitStepEqualsReferenceStep() throws {
        let optimizer = try SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.1)
        var parameters: [Float] = [1, -2]
        var velocity: [Float] = [0, 0]
        for gradient: [Float] in [[0.5, 0.25], [0.5, 0.25]] {
            parameters.withUnsafeMutableBufferPointer { w in
                velocity.withUnsafeMutableBufferPointer { v in
                    optimizer.beginStep(velocity: v, parameters: UnsafeBufferPointer(w))
                    for i in 0..<2 { v[i] += gradient[i] }
                    optimizer.finishStep(parameters: w, velocity: UnsafeBufferPointer(v))
                }
            }
        }
        expectClose(parameters, [0.8266, -2.01445])
    }

    @Test func rejectsImpossibleValues() {
        for (lr, mu, wd) in [(Float(0), Float(0), Float(0)), (-1, 0, 0), (.nan, 0, 0), (0.1, 1, 0), (0.1, -0.1, 0), (0.1, 0, -1)] {
            #expect { try SGD(learningRate: lr, momentum: mu, weightDecay: wd) } throws: {
                ($0 as? ModelError)?.code == .invalidConfiguration
            }
        }
    }
}
