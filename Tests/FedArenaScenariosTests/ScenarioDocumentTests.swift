import FedArenaCore
import FedArenaScenarios
import Foundation
import Testing

/// How ``ScenarioDocument`` turns YAML scalars into values.
@Suite struct ScenarioDocumentTests {
    /// Regression: the scenario-parser fuzzer (Tests/Fuzz, FuzzScenarioParser) crashed the
    /// process with this input: Yams reads a plain scalar with colons as a YAML 1.1 base-60
    /// integer and traps when it overflows. Such scalars stay strings.
    @Test func aBase60LookingScalarIsAStringNotATrap() throws {
        let crash = "2222220000000000001:3971058432973:392"  // the fuzzer's crash-6f741544... input, verbatim
        let document = try ScenarioDocument(yaml: "seed: \(crash)\nname: '1:30'\nrounds: 1:30\nplain: 90", source: "fuzz.yaml")
        #expect(document.tree == .object(["seed": .string(crash), "name": .string("1:30"), "rounds": .string("1:30"), "plain": .int(90)]))
        var overridden = try ScenarioDocument(yaml: "seed: 1", source: "fuzz.yaml")
        try overridden.apply(override: "seed=\(crash)")
        #expect(overridden.tree == .object(["seed": .string(crash)]))
    }

    @Test func aBase60NumberWhereTheSchemaWantsANumberIsRefusedWithItsKey() {
        let yaml = ScenarioSchemaTests.minimal.replacingOccurrences(of: "rounds: 3", with: "rounds: 1:30")
        do {
            _ = try ScenarioSchema.decode(try ScenarioDocument(yaml: yaml, source: "test.yaml"))
            Issue.record("rounds: 1:30 was accepted")
        } catch {
            #expect(error.keyPath == "training.rounds", "\(error)")
        }
    }
}
