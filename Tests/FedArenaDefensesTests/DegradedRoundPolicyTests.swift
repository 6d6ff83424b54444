import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import Testing

@Suite struct DegradedRoundPolicyTests {
    let updates = makeUpdates([[1], [2], [9], [3]])

    @Test func medianFallbackNamesTheBound() throws {
        var rng = SeededGenerator(seed: 1)
        let outcome = try DegradedRoundPolicy.median.aggregate(with: try Krum(f: 2), updates: updates, context: makeContext(dimension: 1), using: &rng)
        guard case .fellBack(let result, let rule, let reason) = outcome else { Issue.record("expected a fallback"); return }
        #expect(rule == "median" && reason == result.note)
        #expect(result.aggregate.values == [2.5])
        #expect(result.note?.contains("krum needs n > 2f + 2") == true)
    }

    @Test func skipSaysWhy() throws {
        var rng = SeededGenerator(seed: 1)
        let outcome = try DegradedRoundPolicy.skip.aggregate(with: try Bulyan(f: 1), updates: updates, context: makeContext(dimension: 1), using: &rng)
        #expect(outcome == .skipped(reason: "round skipped: bulyan needs n >= 4f + 3, got n = 4, f = 1 (4f + 3 = 7)"))
    }

    @Test func largeEnoughRoundsRunTheRule() throws {
        var rng = SeededGenerator(seed: 1)
        let outcome = try DegradedRoundPolicy.skip.aggregate(with: try Krum(f: 0), updates: updates, context: makeContext(dimension: 1), using: &rng)
        guard case .aggregated(let result) = outcome else { Issue.record("expected a result"); return }
        #expect(result.note == nil && result.selected.count == 1)
    }

    @Test func readsFromConfig() throws {
        let reader = try ConfigReader(.object(["degraded": .string("skip")]), path: "defense")
        #expect(try DegradedRoundPolicy.read(reader) == .skip)
        let typo = try ConfigReader(.object(["degraded": .string("medain")]), path: "defense")
        #expect(throws: ConfigError.self) { try DegradedRoundPolicy.read(typo) }
        #expect(try DegradedRoundPolicy.read(try ConfigReader(.object([:]), path: "defense")) == .median)
    }
}
