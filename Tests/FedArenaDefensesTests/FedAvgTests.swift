import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import FedArenaTesting
import Testing

@Suite struct FedAvgTests {
    @Test func weightsBySampleCount() throws {
        let result = try aggregate(FedAvg(), [[0, 4], [3, 0], [6, 8]], counts: [1, 1, 2])
        #expect(close(result.aggregate.values, [3.75, 5]))
        #expect(weight(result, 0) == 0.25 && weight(result, 1) == 0.25 && weight(result, 2) == 0.5)
        #expect(result.note == nil)
    }

    @Test func unweightedIsThePlainMean() throws {
        let result = try aggregate(FedAvg(weighted: false), [[0, 4], [3, 0], [6, 8]], counts: [1, 1, 2])
        #expect(close(result.aggregate.values, [3, 4]))
        #expect(abs(weight(result, 2) - 1.0 / 3) < 1e-12)
    }

    @Test func zeroSampleCountsFallBackToThePlainMean() throws {
        let result = try aggregate(FedAvg(), [[2], [4]], counts: [0, 0])
        #expect(result.aggregate.values == [3])
        #expect(result.note != nil)
    }

    @Test func nanInAZeroWeightUpdateIsStillRejected() {
        #expect(throws: AggregationError.self) { try aggregate(FedAvg(), [[1], [.nan]], counts: [5, 0]) }
    }

    @Test func infinityIsReportedWithTheClient() {
        do throws(AggregationError) {
            _ = try aggregate(FedAvg(), [[1, 2], [3, -.infinity]])
            Issue.record("expected a non-finite error")
        } catch {
            #expect(error.code == .nonFinite)
            #expect(error.message.contains("client 1") && error.message.contains("coordinate 1"))
        }
    }

    @Test(arguments: [1, 2, 7])
    func conformance(inputCount: Int) {
        AggregatorConformance(FedAvg(), inputCount: inputCount).verify()
    }
}
