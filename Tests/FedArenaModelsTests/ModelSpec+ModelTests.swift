import FedArenaCore
import FedArenaModels
import Testing

@Suite struct ModelSpecModelTests {
    @Test func factoryBuildsTheNamedModel() throws {
        let softmax = try ModelSpec.softmax.makeModel()
        #expect((softmax as? MLP)?.hidden == [])
        #expect(softmax.parameterCount == 7_850)
        #expect(softmax.description == "softmax(784-10)")
        let mlp = try ModelSpec.mlp(hidden: [100]).makeModel()
        #expect((mlp as? MLP)?.hidden == [100])
        #expect(mlp.parameterCount == 79_510)
        #expect(mlp.inputCount == 784 && mlp.classCount == 10)
        let small = try ModelSpec.mlp(hidden: [3, 2]).makeModel(inputs: 4, classes: 2)
        #expect(small.parameterCount == 4 * 3 + 3 + 3 * 2 + 2 + 2 * 2 + 2)
        #expect { try ModelSpec.mlp(hidden: [10, 0]).makeModel() } throws: { ($0 as? ModelError)?.code == .invalidConfiguration }
    }

    @Test func inputShapeFlattensForDenseModelsAndShapesTheCNN() throws {
        let mlp = try ModelSpec.mlp(hidden: [100]).makeModel(inputShape: [1, 28, 28], classes: 10)
        #expect(mlp as? MLP == (try MLP(inputs: 784, hidden: [100], classes: 10)))
        let softmax = try ModelSpec.softmax.makeModel(inputShape: [3, 4, 5], classes: 7)
        #expect(softmax.parameterCount == 60 * 7 + 7)
        let cnn = try ModelSpec.cnn(layers: LayerSpec.fltrustCNN).makeModel(inputShape: [1, 28, 28], classes: 10)
        #expect((cnn as? ConvolutionalNetwork)?.inputShape == [1, 28, 28])
        #expect(cnn.parameterCount == 139_960)
        // Three channels: conv1 has 3·9·30 + 30 weights, the rest is unchanged.
        let color = try ModelSpec.cnn(layers: LayerSpec.fltrustCNN).makeModel(inputShape: [3, 28, 28], classes: 10)
        #expect(color.parameterCount == 139_960 + 2 * 9 * 30)
        // [height, width] is one channel.
        let plane = try ModelSpec.cnn(layers: LayerSpec.fltrustCNN).makeModel(inputShape: [28, 28], classes: 10)
        #expect((plane as? ConvolutionalNetwork)?.inputShape == [1, 28, 28])
        #expect(plane.parameterCount == 139_960)
        #expect { try ModelSpec.cnn(layers: LayerSpec.fltrustCNN).makeModel(inputs: 784) } throws: {
            ($0 as? ModelError)?.message.contains("needs an image input") == true
        }
        #expect { try ModelSpec.softmax.makeModel(inputShape: [0, 3], classes: 2) } throws: {
            ($0 as? ModelError)?.code == .invalidConfiguration
        }
    }
}
