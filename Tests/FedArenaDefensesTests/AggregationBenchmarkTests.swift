import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import Testing

@Suite struct AggregationBenchmarkTests {
    /// The benchmark's list is the registry's: every rule once, then every pre-aggregation
    /// stage in front of its host rule.
    @Test func timesEveryRegisteredRuleOnASmallRound() throws {
        let registry = AggregatorRegistry.standard
        let rules = AggregationBenchmark.standardRules(n: 12, f: 2)
        #expect(rules.count == registry.kinds.count + registry.preKinds.count)
        #expect(Set(rules.map(\.kind)) == Set(registry.kinds))
        let rows = try AggregationBenchmark.run(rules: rules, n: 12, d: 16, repetitions: 2, seed: 1)
        #expect(rows.count == rules.count)
        #expect(rows.allSatisfy { $0.medianMilliseconds >= $0.minMilliseconds && $0.minMilliseconds >= 0 && $0.n == 12 && $0.d == 16 })
        #expect(Set(rows.map(\.name)).isSuperset(of: ["nnm+krum", "bucketing+median", "clip+fedavg"]))
        // The numpy anchor's settings: β = f/n, geomed ν = 0.1 in 3 steps from zero.
        let anchor = AggregationBenchmark.standardRules(n: 100, f: 20)
        #expect(anchor.first { $0.kind == "trimmed-mean" }?.options["beta"] == .double(0.2))
        #expect(anchor.first { $0.kind == "geomed" }?.options["iterations"] == .int(3))
    }

    @Test func skipsRulesWhoseBoundTheRoundMisses() throws {
        let rows = try AggregationBenchmark.run(rules: AggregationBenchmark.standardRules(n: 10, f: 20), n: 10, d: 4, repetitions: 1)
        #expect(!rows.map(\.name).contains("krum"))
        #expect(rows.map(\.name).contains("median"))
    }
}
