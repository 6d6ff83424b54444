import FedArenaCore
import FedArenaData
import FedArenaSynthesis
import Foundation
import Testing

@Suite struct SynthesisDemoTests {
    @Test func fitSampleWriteAndTable() throws {
        let data = Fixtures.lowRank(classes: 2, perClass: 60, d: 16, scales: [0.15, 0.1], noise: 0.03).samples
        let heldOut = Fixtures.lowRank(classes: 2, perClass: 30, d: 16, scales: [0.15, 0.1], noise: 0.03, seed: 9).samples
        let result = try SynthesisDemo.fitAndSample(try GaussianPCA(components: 2), on: data, perClass: 5, seed: 1)
        #expect(result.samples.classHistogram == [5, 5])
        #expect(try SynthesisDemo.fitAndSample(try GaussianPCA(components: 2), on: data, perClass: 5, seed: 1).samples == result.samples)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("synthesis-demo-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try SynthesisDemo.writeNPY(result.samples, featuresPath: folder.appendingPathComponent("x.npy").path, labelsPath: folder.appendingPathComponent("y.npy").path)
        let (values, shape) = try NPYFile.read(folder.appendingPathComponent("x.npy").path)
        #expect(shape == [10, 16] && values == result.samples.features)
        #expect(throws: SynthesisError.self) { try SynthesisDemo.writePNG(result.samples, to: folder.appendingPathComponent("x.png").path) }  // 16 features are not 28x28

        let unseen = Fixtures.lowRank(classes: 2, perClass: 30, d: 16, scales: [0.15, 0.1], noise: 0.03, seed: 10).samples
        let rows = try SynthesisDemo.fidelityTable(
            generators: [try GaussianPCA(components: 2, residual: true), try GaussianMixture(components: 2)], real: data, heldOut: heldOut,
            unseen: unseen, seed: 3)
        #expect(rows.map(\.name) == ["real (training)", "real (unseen)", "gaussian-pca", "gmm"])
        #expect(rows.allSatisfy { $0.metrics.syntheticCount == 60 })
        // The training set is its own nearest neighbour; unseen real samples are not copies.
        #expect(try #require(rows[0].metrics.nearestTrainingDistance) < 0.01 && rows[0].metrics.copyShare == 1)
        #expect(try #require(rows[1].metrics.copyShare) < 0.2)
        #expect(FidelityRow.markdown(rows).split(separator: "\n").count == 6)
        #expect { try SynthesisDemo.fitAndSample(try GaussianPCA(components: 100), on: data, perClass: 1, seed: 1) } throws: {
            ($0 as? SynthesisError)?.code == .generatorFailed
        }
    }
}
