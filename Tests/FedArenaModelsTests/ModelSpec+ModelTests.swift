import FedArenaCore
import FedArenaModels
import Testing

@Suite struct ModelSpecModelTests {
    @Test func factoryBuildsTheNamedModel() throws {
        let softmax = try ModelSpec.softmax.makeModel()
        #expect(softmax is SoftmaxRegression)
        #expect(softmax.parameterCount == 7_850)
        let mlp = try ModelSpec.mlp(hidden: [100]).makeModel()
        #expect(mlp is MLP)
        #expect(mlp.parameterCount == 79_510)
        #expect(mlp.inputCount == 784 && mlp.classCount == 10)
        let small = try ModelSpec.mlp(hidden: [3, 2]).makeModel(inputs: 4, classes: 2)
        #expect(small.parameterCount == 4 * 3 + 3 + 3 * 2 + 2 + 2 * 2 + 2)
        #expect { try ModelSpec.mlp(hidden: [10, 0]).makeModel() } throws: { ($0 as? ModelError)?.code == .invalidConfiguration }
    }
}
