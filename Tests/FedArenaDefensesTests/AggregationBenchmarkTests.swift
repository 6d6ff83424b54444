import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import Testing

@Suite struct AggregationBenchmarkTests {
    @Test func timesEveryStandardRuleOnASmallRound() throws {
        let rules = AggregationBenchmark.standardRules(f: 2)
        let rows = try AggregationBenchmark.run(rules: rules, n: 12, d: 16, repetitions: 2, seed: 1)
        #expect(rows.count == rules.count)
        #expect(rows.allSatisfy { $0.medianMilliseconds >= $0.minMilliseconds && $0.minMilliseconds >= 0 && $0.n == 12 && $0.d == 16 })
        #expect(rows.map(\.name).contains("nnm+krum"))
    }

    @Test func skipsRulesWhoseBoundTheRoundMisses() throws {
        let rows = try AggregationBenchmark.run(rules: AggregationBenchmark.standardRules(f: 20), n: 10, d: 4, repetitions: 1)
        #expect(!rows.map(\.name).contains("krum"))
        #expect(rows.map(\.name).contains("median"))
    }
}
