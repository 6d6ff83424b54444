import FedArenaCore
import FedArenaDefenses
import Testing

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
}
