import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import Testing

/// Opens an existential rule for the generic test helper.
struct AnyRule: Aggregator {
    var base: any Aggregator
    init(_ base: any Aggregator) { self.base = base }
    var name: String { base.name }
    var requiresReferenceUpdate: Bool { base.requiresReferenceUpdate }
    func validate(inputCount: Int) throws(AggregationError) { try base.validate(inputCount: inputCount) }
    func aggregate(_ updates: UpdateMatrix, context: RoundContext, using rng: inout some RandomNumberGenerator) throws(AggregationError) -> AggregationResult {
        try base.aggregate(updates, context: context, using: &rng)
    }
}

@Suite struct AggregatorRegistryTests {
    let registry = AggregatorRegistry.standard

    func spec(_ kind: String, _ options: [String: ConfigValue] = [:]) -> ComponentSpec {
        ComponentSpec(kind: kind, options: options, keyPath: "defense.aggregator")
    }

    func configError(_ body: () throws(ConfigError) -> Void) -> ConfigError? {
        do throws(ConfigError) {
            try body()
            return nil
        } catch {
            return error
        }
    }

    @Test func buildsFedAvg() throws {
        let rule = try registry.make(spec("fedavg", ["weighted": .bool(false)]))
        #expect(rule.name == "fedavg")
        #expect(!rule.requiresReferenceUpdate)
    }

    @Test func unknownKindListsTheKnownOnesWithASuggestion() {
        let error = configError { () throws(ConfigError) in _ = try registry.make(spec("fedvag")) }
        #expect(error?.keyPath == "defense.aggregator.kind")
        #expect(error?.message.contains("did you mean \"fedavg\"") == true)
        #expect(error?.message.contains("known: ") == true)
    }

    @Test func unknownOptionIsRejectedAtItsKeyPath() {
        let error = configError { () throws(ConfigError) in _ = try registry.make(spec("fedavg", ["wieghted": .bool(true)])) }
        #expect(error?.code == .unknownKey)
        #expect(error?.keyPath == "defense.aggregator.wieghted")
        #expect(error?.message.contains("weighted") == true)
    }

    @Test func wrongTypeIsRejected() {
        let error = configError { () throws(ConfigError) in _ = try registry.make(spec("fedavg", ["weighted": .int(3)])) }
        #expect(error?.code == .wrongType)
        #expect(error?.keyPath == "defense.aggregator.weighted")
    }

    @Test func validateRejectsAnEmptyRound() {
        let error = configError { () throws(ConfigError) in try registry.validate(spec("fedavg"), inputCount: 0) }
        #expect(error?.code == .invalidValue)
        #expect(error?.keyPath == "defense.aggregator")
        #expect(throws: Never.self) { try registry.validate(spec("fedavg"), inputCount: 3) }
    }

    @Test func checkConvertsAnAggregationError() {
        let error = configError { () throws(ConfigError) in try AggregatorRegistry.check(FedAvg(), inputCount: 0, keyPath: "x.y") }
        #expect(error?.keyPath == "x.y")
        #expect(error?.message.contains("fedavg") == true)
    }

    @Test func everyKindIsDocumented() {
        for kind in registry.kinds { #expect(!(registry.entries[kind]?.summary.isEmpty ?? true), "\(kind)") }
        #expect(registry.kinds.contains("fedavg"))
    }

    /// Every registered rule with its declared example options (the registry is the list).
    @Test(arguments: AggregatorRegistry.standard.kinds)
    func buildsEveryKind(kind: String) throws {
        let options = try #require(registry.entries[kind]).traits.example(AggregatorTraits.ExampleRound(n: 20, f: 2))
        let rule = try registry.make(spec(kind, options))
        #expect(rule.name == kind)
        #expect(rule.requiresReferenceUpdate == (kind == "fltrust"))
        #expect(throws: Never.self) { try registry.validate(spec(kind, options), inputCount: 20) }
        // Run it: every client gets a finite weight and the aggregate is finite.
        var rng = SeededGenerator(seed: 2)
        let rows = (0..<20).map { _ in (0..<5).map { _ in Float(rng.normal()) } }
        let result = try aggregate(AnyRule(rule), rows, context: makeContext(dimension: 5, reference: [1, 1, 1, 1, 1]))
        #expect(result.aggregate.isFinite && result.aggregate.count == 5)
        #expect(Set(result.weights.keys) == Set((0..<20).map(ClientID.init)))
        #expect(result.weights.values.allSatisfy { $0.isFinite && $0 >= 0 })
    }

    @Test func preChainIsComposed() throws {
        let options: [String: ConfigValue] = [
            "f": .int(2),
            "pre": .array([.object(["kind": .string("clip"), "tau": .double(5)]), .object(["kind": .string("nnm"), "f": .int(2)])]),
        ]
        let rule = try registry.make(spec("krum", options))
        #expect(rule.name == "clip+nnm+krum")
        #expect(registry.preKinds == ["bucketing", "clip", "nnm"])
    }

    @Test func impossibleParametersAreReportedAtTheirKey() {
        let negative = configError { () throws(ConfigError) in _ = try registry.make(spec("krum", ["f": .int(-1)])) }
        #expect(negative?.keyPath == "defense.aggregator.f")
        #expect(negative?.message == "krum needs f >= 0, got f = -1")
        let beta = configError { () throws(ConfigError) in _ = try registry.make(spec("trimmed-mean", ["beta": .double(0.5)])) }
        #expect(beta?.keyPath == "defense.aggregator.beta")
        let missing = configError { () throws(ConfigError) in _ = try registry.make(spec("krum")) }
        #expect(missing?.code == .missingKey && missing?.keyPath == "defense.aggregator.f")
    }

    @Test func roundBoundsAreReportedAtTheBoundKey() {
        let krum = configError { () throws(ConfigError) in try registry.validate(spec("krum", ["f": .int(5)]), inputCount: 10) }
        #expect(krum?.description == "defense.aggregator.f: krum needs n > 2f + 2, got n = 10, f = 5 (2f + 2 = 12)")
        let bulyan = configError { () throws(ConfigError) in try registry.validate(spec("bulyan", ["f": .int(3)]), inputCount: 14) }
        #expect(bulyan?.keyPath == "defense.aggregator.f")
        let multi = configError { () throws(ConfigError) in try registry.validate(spec("multi-krum", ["f": .int(1), "m": .int(9)]), inputCount: 9) }
        #expect(multi?.message.contains("m <= n - f") == true)
    }

    @Test func preStageErrorsCarryTheirPath() {
        let typo = configError { () throws(ConfigError) in
            _ = try registry.make(spec("krum", ["f": .int(1), "pre": .array([.object(["kind": .string("nmn"), "f": .int(1)])])]))
        }
        #expect(typo?.keyPath == "defense.aggregator.pre[0].kind")
        #expect(typo?.message.contains("did you mean \"nnm\"") == true)
        let unknownKey = configError { () throws(ConfigError) in
            _ = try registry.make(spec("krum", ["f": .int(1), "pre": .array([.object(["kind": .string("nnm"), "ff": .int(1)])])]))
        }
        #expect(unknownKey?.keyPath == "defense.aggregator.pre[0].ff" || unknownKey?.keyPath == "defense.aggregator.pre[0].f")
        let bucket = configError { () throws(ConfigError) in
            _ = try registry.make(spec("median", ["pre": .array([.object(["kind": .string("bucketing"), "s": .int(0)])])]))
        }
        #expect(bucket?.keyPath == "defense.aggregator.pre[0].s")
        // Buckets of 2 turn 8 updates into 4, too few for Krum(f = 1): reported at the rule's f.
        let composed = configError { () throws(ConfigError) in
            try registry.validate(spec("krum", ["f": .int(1), "pre": .array([.object(["kind": .string("bucketing"), "s": .int(2)])])]), inputCount: 8)
        }
        #expect(composed?.keyPath == "defense.aggregator.f")
        #expect(composed?.message.contains("n = 4") == true)
        let nnm = configError { () throws(ConfigError) in
            try registry.validate(spec("median", ["pre": .array([.object(["kind": .string("nnm"), "f": .int(3)])])]), inputCount: 3)
        }
        #expect(nnm?.keyPath == "defense.aggregator.pre[0].f")
    }

    /// Rules that declare that a trust weight in (0, 1) counts as 1 really ignore it; the others
    /// really use it (their own tests check how).
    @Test(arguments: AggregatorRegistry.standard.kinds)
    func fractionalWeightsActAsDeclared(kind: String) throws {
        let entry = try #require(registry.entries[kind])
        let rule = try registry.make(spec(kind, entry.traits.example(AggregatorTraits.ExampleRound(n: 20, f: 2))))
        var rng = SeededGenerator(seed: 3)
        let rows = (0..<20).map { i in (0..<5).map { _ in Float(rng.normal()) + (i == 0 ? 3 : 0) } }
        let trust = (0..<20).map { [0.25, 0.5, 0.75, 1][$0 % 4] }
        let context = makeContext(dimension: 5, reference: [1, 1, 1, 1, 1])
        let plain = try aggregate(AnyRule(rule), rows, context: context)
        let weighted = try aggregate(AnyRule(rule), rows, weights: trust, context: context)
        if entry.traits.weightMeaning.hasPrefix("counts as 1") {
            #expect(weighted == plain, "\(kind) declares that weights count as 1")
        } else {
            #expect(weighted.aggregate != plain.aggregate || weighted.weights != plain.weights, "\(kind) declares that weights act: \(entry.traits.weightMeaning)")
        }
    }

    @Test func everyRuleDeclaresItsBoundAtItsBoundKey() {
        for entry in registry.rules.sortedEntries {
            #expect((entry.traits.bound == nil) == (entry.traits.boundKey == nil), "\(entry.kind)")
            #expect(!entry.traits.weightMeaning.isEmpty)
        }
    }

    @Test func registryIsExtensible() throws {
        var custom = AggregatorRegistry(entries: [])
        custom.register(AggregatorRegistry.Entry(kind: "mine", summary: "test") { _ throws(ConfigError) in FedAvg() })
        #expect(custom.kinds == ["mine"])
        #expect(try custom.make(spec("mine")).name == "fedavg")
    }
}
