import FedArenaCore
import FedArenaRuntime
import Testing

/// The commitment's hashes against hashlib over the documented byte layouts:
/// ```python
/// b = b'FA-batch' + struct.pack('<QQ', 2, 2) + struct.pack('<4f', .5, .25, 1, 0) + struct.pack('<2i', 1, 0)
/// w = b'FA-weights' + struct.pack('<Q', 3) + struct.pack('<3f', 1, -2, .5)
/// leaf = b'\x00' + struct.pack('<Q', 7) + H(b) + H(w) + struct.pack('<f', 1.5)
/// ```
@Suite struct StepHashingTests {
    static let batch = LabeledSamples(features: [0.5, 0.25, 1.0, 0.0], labels: [1, 0], featureCount: 2, classCount: 2)

    @Test func batchWeightsAndLeafHashesMatchThePythonReference() {
        let batch = StepHashing.batchHash(Self.batch)
        let weights = StepHashing.weightsHash([1.0, -2.0, 0.5])
        #expect(MerkleTreeTests.hex(batch) == "4ec87ef1fdc29287e3098e516aebcd918d672bb7648bac7c6419f7601df90994")
        #expect(MerkleTreeTests.hex(weights) == "246ce76ae4ee8fb02ee0ff3f4c4053e06aa7205d1169b96946757e9623778982")
        let leaf = StepHashing.leafHash(step: 7, leaf: StepLeaf(batchHash: batch, weightsHash: weights, norm: 1.5))
        #expect(MerkleTreeTests.hex(leaf) == "cbae84f6aedb3619ab8ec671b979e6b2f468395e5ad4580476f8a8736db9006a")
    }

    @Test func theNormIsTheEuclideanLengthOfTheStep() {
        // (3, 4, 0) − (0, 0, 0): 5; (1, 1) − (0, 0): √2 rounded to float32.
        let norm = [Float](repeating: 0, count: 3).withUnsafeBufferPointer { b in [Float(3), 4, 0].withUnsafeBufferPointer { StepHashing.norm(before: b, after: $0) } }
        #expect(norm == 5)
        let diagonal = [Float(0), 0].withUnsafeBufferPointer { b in [Float(1), 1].withUnsafeBufferPointer { StepHashing.norm(before: b, after: $0) } }
        #expect(diagonal == Float(2.0.squareRoot()))
    }
}
