import FedArenaCore
import FedArenaDefenses
import Testing

@Suite struct OfflineDetectionTests {
    var configuration: OfflineDetection.Configuration {
        var c = OfflineDetection.Configuration()
        c.dimension = 128
        c.bandwidth = 3
        c.nullDraws = 200
        c.iterations = 150
        return c
    }

    @Test func aRealSetFromTheSameDistributionPasses() throws {
        let report = try OfflineDetection.evaluate(reference: blobs(count: 80, seed: 1), candidate: blobs(count: 60, seed: 2), seed: 3, configuration: configuration)
        #expect(report.verdict == .real)
        #expect(report.results.map(\.detector) == ["sketch-mmd", "c2st", "spread"])
        #expect(report.results.allSatisfy { $0.pValue > 0.05 / 3 })
        #expect(abs(report.threshold - (1 - 0.05 / 3)) < 1e-12)
        #expect(report.description.contains("verdict: real"))
    }

    @Test func aCollapsedSetIsSynthetic() throws {
        let report = try OfflineDetection.evaluate(
            reference: blobs(count: 80, seed: 1), candidate: blobs(count: 60, spread: 0.4, seed: 2), seed: 3, configuration: configuration)
        #expect(report.verdict == .synthetic)
        let spread = try #require(report.results.first { $0.detector == "spread" })
        #expect(spread.score > report.threshold)
        #expect(spread.reason.contains("variance 0.1"))
        #expect(report.results.first { $0.detector == "sketch-mmd" }!.score > report.threshold)
    }

    @Test func mismatchedSetsThrow() {
        let other = LabeledSamples(features: [0, 1], labels: [0], featureCount: 2, classCount: 2)
        #expect(throws: DetectionError.self) { try OfflineDetection.evaluate(reference: blobs(count: 5, seed: 1), candidate: other, seed: 1) }
    }
}
