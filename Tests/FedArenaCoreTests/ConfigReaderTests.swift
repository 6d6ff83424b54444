import FedArenaCore
import Testing

@Suite struct ConfigReaderTests {
    let value: ConfigValue = .object([
        "f": .int(3), "beta": .double(0.2), "name": .string("krum"), "flag": .bool(true),
        "hidden": .array([.int(100), .int(50)]), "whole": .double(4.0), "nested": .object(["x": .int(1)]),
    ])

    @Test func readsTypedValuesAndDefaults() throws {
        let reader = try ConfigReader(value, path: "defense.aggregator")
        #expect(try reader.int("f") == 3)
        #expect(try reader.int("whole") == 4)
        #expect(try reader.double("beta") == 0.2)
        #expect(try reader.double("f") == 3)
        #expect(try reader.string("name", allowed: ["krum", "median"]) == "krum")
        #expect(try reader.bool("flag"))
        #expect(try reader.intArray("hidden") == [100, 50])
        #expect(try reader.int("absent", default: 9) == 9)
        #expect(try reader.optionalInt("missing", atLeast: 0) == nil)
        #expect(try reader.child("nested")?.int("x") == 1)
    }

    @Test func reportsKeyPathsForWrongTypesAndRanges() throws {
        let reader = try ConfigReader(value, path: "defense.aggregator")
        #expect(throws: ConfigError(.wrongType, keyPath: "defense.aggregator.name", "expected an integer, got a string \"krum\"")) {
            try reader.int("name")
        }
        #expect(throws: ConfigError(.invalidValue, keyPath: "defense.aggregator.f", "must be in 5...10, got 3")) {
            try reader.int("f", range: 5...10)
        }
        #expect(throws: ConfigError(.missingKey, keyPath: "defense.aggregator.m", "is required")) {
            try reader.int("m")
        }
        #expect(throws: ConfigError(.wrongType, keyPath: "defense.aggregator.beta", "expected true or false, got a number 0.2")) {
            try reader.bool("beta")
        }
        do {
            _ = try reader.string("name", allowed: ["krun", "median"])
            Issue.record("accepted a value outside the allowed list")
        } catch {
            #expect(error.message.contains("did you mean \"krun\""))
        }
    }

    @Test func finishRejectsUnreadKeysWithASuggestion() throws {
        let reader = try ConfigReader(.object(["rounds": .int(3), "roundz": .int(4)]), path: "training")
        _ = try reader.int("rounds")
        do {
            try reader.finish()
            Issue.record("an unread key passed finish()")
        } catch {
            #expect(error.code == .unknownKey)
            #expect(error.keyPath == "training.roundz")
            #expect(error.message.contains("did you mean \"rounds\""))
        }
    }

    @Test func nonMappingsAreRejected() {
        #expect(throws: ConfigError.self) { try ConfigReader(.int(3), path: "model") }
        #expect((try? ConfigReader(.null, path: "model"))?.keys == [])
    }

    @Test func closestSuggestsOnlyNearMisses() {
        #expect(ConfigReader.closest(to: "local_epoch", in: ["local_epochs", "lr"]) == "local_epochs")
        #expect(ConfigReader.closest(to: "zzzzzz", in: ["rounds", "lr"]) == nil)
    }

    @Test func errorDescriptionNamesFileKeyAndReason() {
        let error = ConfigError(.invalidValue, keyPath: "clients.count", "must be at least 1, got 0").inFile("x.yaml")
        #expect(error.description == "x.yaml: clients.count: must be at least 1, got 0")
    }
}

@Suite struct ConfigValueTests {
    @Test func setCreatesIntermediateMappingsAndRefusesScalars() {
        var tree = ConfigValue.object(["training": .object(["rounds": .int(3)])])
        let first = tree.set(.int(5), at: ["training", "rounds"])
        let second = tree.set(.double(0.1), at: ["attack", "fraction"])
        #expect(first && second)
        #expect(tree[path: "training.rounds"] == .int(5))
        #expect(tree[path: "attack.fraction"] == .double(0.1))
        let refused = tree.set(.int(1), at: ["training", "rounds", "deeper"])
        #expect(!refused)
        #expect(tree[path: "training.rounds"] == .int(5))
    }
}

@Suite struct ParameterVectorTests {
    @Test func normFinitenessAndBytes() {
        let vector = ParameterVector([3, 4])
        #expect(vector.norm == 5)
        #expect(vector.isFinite)
        #expect(!ParameterVector([1, .nan]).isFinite)
        #expect(!ParameterVector([.infinity]).isFinite)
        #expect(ParameterVector([1]).littleEndianBytes == [0x00, 0x00, 0x80, 0x3F])
        #expect(ParameterVector(zeros: 3).values == [0, 0, 0])
    }

    @Test func aggregationResultListsSelectedClientsInOrder() {
        let result = AggregationResult(
            aggregate: ParameterVector([0]), weights: [ClientID(4): 0.5, ClientID(1): 0.5, ClientID(2): 0])
        #expect(result.selected == [ClientID(1), ClientID(4)])
    }
}
