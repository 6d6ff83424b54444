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

    /// Trust weights multiply the sample-count weights, then renormalise: counts 10, 10, 20
    /// with weights 1, 0.5, 0 give (10 · 1 + 5 · 3) / 15 = 5/3 (client 2 excluded), weights
    /// 2/3, 1/3, 0. A weight of 0.5 on 10 samples is the same as 5 samples at weight 1.
    @Test func trustWeightsMultiplyTheSampleWeights() throws {
        let rows: [[Float]] = [[1], [3], [10]]
        let result = try aggregate(FedAvg(), rows, counts: [10, 10, 20], weights: [1, 0.5, 0])
        #expect(abs(result.aggregate.values[0] - 5.0 / 3) < 1e-6)
        #expect(abs(weight(result, 0) - 2.0 / 3) < 1e-12 && abs(weight(result, 1) - 1.0 / 3) < 1e-12 && weight(result, 2) == 0)
        #expect(try aggregate(FedAvg(), rows, counts: [10, 10, 20], weights: [1, 0.5, 1]) == (try aggregate(FedAvg(), rows, counts: [10, 5, 20])))
        let plain = try aggregate(FedAvg(weighted: false), rows, weights: [1, 0.5, 0.5])
        #expect(abs(plain.aggregate.values[0] - 3.75) < 1e-6)  // (1 + 1.5 + 5) / 2
    }
}
