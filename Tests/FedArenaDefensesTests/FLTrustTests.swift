import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import FedArenaTesting
import Testing

@Suite struct FLTrustTests {
    @Test func trustWeightedRescaledMean() throws {
        // cos with [1, 0]: 1, 0, -1, 0.7071 -> trust 1, 0, 0, 0.7071; rescaled to norm 1.
        let context = makeContext(dimension: 2, reference: [1, 0])
        let result = try aggregate(FLTrust(), [[2, 0], [0, 5], [-1, 0], [1, 1]], context: context)
        let s = Float(0.5).squareRoot()
        let expected = [(1 + s * s) / (1 + s), (s * s) / (1 + s)]
        #expect(close(result.aggregate.values, expected))
        #expect(abs(weight(result, 0) - 1 / (1 + 0.5.squareRoot())) < 1e-6)
        #expect(weight(result, 1) == 0 && weight(result, 2) == 0)
        #expect(FLTrust().requiresReferenceUpdate)
    }

    @Test func allZeroTrustGivesZeroWithANote() throws {
        let context = makeContext(dimension: 2, reference: [1, 0])
        let result = try aggregate(FLTrust(), [[-1, 0], [0, 1]], context: context)
        #expect(result.aggregate.values == [0, 0])
        #expect(result.note != nil)
    }

    @Test func missingOrMismatchedReference() {
        do throws(AggregationError) {
            _ = try aggregate(FLTrust(), [[1, 0]])
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .missingReference)
        }
        #expect(throws: AggregationError.self) { try aggregate(FLTrust(), [[1, 0]], context: makeContext(dimension: 3, reference: [1, 0, 0])) }
    }

    @Test func conformance() {
        AggregatorConformance(FLTrust(), inputCount: 9, robustTo: 4, makeContext: AggregatorConformance.lowestClientAsReference).verify()
    }

    /// Trust weights multiply the trust score. Root [1, 0]; updates [1, 0] (TS 1), [1, 1]
    /// (TS √½, rescaled to [√½, √½]) and [−1, 0] (TS 0), weights 0.5, 1, 1: trust 0.5, √½, 0
    /// (sum 0.5 + √½); the aggregate is (0.5 [1, 0] + √½ [√½, √½]) / (0.5 + √½) = [1, 0.5] / (0.5 + √½).
    @Test func trustWeightsMultiplyTheTrustScore() throws {
        let context = makeContext(dimension: 2, reference: [1, 0])
        let result = try aggregate(FLTrust(), [[1, 0], [1, 1], [-1, 0]], weights: [0.5, 1, 1], context: context)
        let total = 0.5 + 0.5.squareRoot()
        #expect(close(result.aggregate.values, [Float(1 / total), Float(0.5 / total)]))
        #expect(abs(weight(result, 0) - 0.5 / total) < 1e-9 && abs(weight(result, 1) - 0.5.squareRoot() / total) < 1e-9 && weight(result, 2) == 0)
    }
}
