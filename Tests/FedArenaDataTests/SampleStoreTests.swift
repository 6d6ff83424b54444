import FedArenaCore
import Testing

@testable import FedArenaData

@Suite struct SampleStoreTests {
    /// Three samples of two pixels each.
    let pixels = SampleStore(values: .pixels([0, 255, 51, 102, 1, 254]), labels: [4, 0, 2], featureCount: 2, classCount: 5)

    @Test func pixelsBecomeFloatsDividedBy255() {
        let all = pixels.samples()
        // 51/255 = 0.2 and 102/255 = 0.4 exactly; float32 division rounds correctly, so the
        // quotients are the float literals; 1/255 and 254/255 are compared with the double
        // quotient rounded once to float.
        #expect(all.features == [0, 1, 0.2, 0.4, Float(1.0 / 255.0), Float(254.0 / 255.0)])
        #expect(all.labels == [4, 0, 2])
        #expect(all.featureCount == 2 && all.classCount == 5)
        #expect(pixels.featureBytes == 6)
    }

    @Test func rowsAreTakenInTheOrderAsked() {
        let picked = pixels.samples([2, 0])
        #expect(picked.features == [Float(1.0 / 255.0), Float(254.0 / 255.0), 0, 1])
        #expect(picked.labels == [2, 4])
        #expect(pixels.samples([]).count == 0)
        let compact = pixels.subset([1])
        #expect(compact.values == .pixels([51, 102]))
        #expect(compact.labels == [0])
    }

    @Test func floatsStayAsTheyAre() {
        let store = SampleStore(values: .floats([-3, 2.5, 1e9, 0]), labels: [1, 0], featureCount: 2, classCount: 2)
        #expect(!store.holdsPixels)
        #expect(store.featureBytes == 16)
        #expect(store.samples([1]).features == [1e9, 0])
        #expect(store.subset([1, 0]).values == .floats([1e9, 0, -3, 2.5]))
    }
}
