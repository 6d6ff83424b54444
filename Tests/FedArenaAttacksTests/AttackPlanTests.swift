import FedArenaAttacks
import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import Testing

@Suite struct AttackPlanTests {
    let catalog = AggregatorRegistry.standard.catalog

    func plan(_ kind: String, _ options: [String: ConfigValue] = [:]) throws(ConfigError) -> AttackPlan {
        try AttackRegistry.standard.make(ComponentSpec(kind: kind, options: options, keyPath: "attack"))
    }

    @Test func maliciousClientsAreASeededSampleOfTheRightSize() throws {
        let p = try plan("sign-flip")
        let chosen = try p.maliciousClients(count: 50, seed: 42)
        #expect(chosen.count == 10 && Set(chosen).count == 10 && chosen == chosen.sorted())
        #expect(chosen.allSatisfy { (0..<50).contains($0.rawValue) })
        #expect(try p.maliciousClients(count: 50, seed: 42) == chosen)
        #expect(try p.maliciousClients(count: 50, seed: 43) != chosen)
        var rng = SeededGenerator(seed: 42, stream: [AttackPlan.selectionStream])
        #expect(chosen.map(\.rawValue) == rng.sample(10, from: 50))
        #expect(try plan("sign-flip", ["fraction": .double(0.29)]).maliciousClients(count: 100, seed: 1).count == 29)
        #expect(try plan("sign-flip", ["fraction": .double(0.01)]).maliciousClients(count: 10, seed: 1).count == 1)
        #expect(try plan("sign-flip", ["fraction": .int(1)]).maliciousClients(count: 7, seed: 1).count == 7)
    }

    @Test func explicitClientsAreCheckedAgainstTheClientCount() throws {
        let p = try plan("ipm", ["clients": .array([.int(3), .int(1)])])
        #expect(try p.maliciousClients(count: 5, seed: 9) == [ClientID(1), ClientID(3)])
        let error = try #require(configError { _ = try p.maliciousClients(count: 3, seed: 9) })
        #expect(error.keyPath == "attack.clients" && error.message.contains("client 3 is not in 0..<3"))
    }

    @Test func contextHandsOverBenignUpdatesOnlyWhenOmniscient() throws {
        let benign = vectors([[1], [2]])
        let partial = try plan("min-max").context(round: 2, maliciousUpdates: vectors([[0]]), benignUpdates: benign, totalClients: 3)
        #expect(partial.benignUpdates.isEmpty && partial.round == 2 && partial.totalClients == 3)
        let omniscient = try plan("min-max", ["knowledge": .string("omniscient")])
            .context(round: 2, maliciousUpdates: vectors([[0]]), benignUpdates: benign, totalClients: 3, targetRule: "krum", assumedByzantine: 1)
        #expect(omniscient.benignUpdates == benign && omniscient.targetRule == "krum" && omniscient.assumedByzantine == 1)
    }

    @Test func objectiveAndBoostComposition() throws {
        let backdoor = try plan("backdoor", ["target": .int(7), "boost": .int(10)])
        #expect(backdoor.objective == .backdoor(trigger: Trigger(), target: 7))
        #expect(backdoor.updateAttack?.objective == backdoor.objective)
        #expect(try craft(try #require(backdoor.updateAttack as? Boost), context(malicious: [[0.5, -1]])) == [[5, -10]])
        #expect(backdoor.isActive(round: 1))
    }

    @Test func validateRefusesImpossibleCombinations() throws {
        let fang = try plan("fang-krum")
        #expect(configError { try fang.validate(againstRule: "median", catalog: catalog, f: nil, perRound: 20) }?.keyPath == "attack.kind")
        #expect(configError { try fang.validate(againstRule: "krum", catalog: catalog, f: nil, perRound: 20) }?.keyPath == "attack.f")
        try fang.validate(againstRule: "multi-krum", catalog: catalog, f: 4, perRound: 20)
        try plan("fang-krum", ["f": .int(4)]).validate(againstRule: "bulyan", catalog: catalog, f: nil, perRound: 20)
        #expect(configError { try plan("fang-trim").validate(againstRule: "krum", catalog: catalog, f: 2, perRound: 20) }?.message
            == "fang-trim targets coordinate-wise rules (median, trimmed-mean) but defense.aggregator is krum")
        try plan("fang-trim").validate(againstRule: "median", catalog: catalog, f: nil, perRound: 20)
        // any_rule: true transfers a tailored attack to any rule (Cao et al. 2021); f is still needed.
        try plan("fang-trim", ["any_rule": .bool(true)]).validate(againstRule: "fltrust", catalog: catalog, f: nil, perRound: 20)
        try plan("fang-krum", ["any_rule": .bool(true), "f": .int(4)]).validate(againstRule: "fedavg", catalog: catalog, f: nil, perRound: 20)
        #expect(configError { try plan("fang-krum", ["any_rule": .bool(true)]).validate(againstRule: "median", catalog: catalog, f: nil, perRound: 20) }?.keyPath == "attack.f")
        #expect(configError { _ = try plan("ipm", ["any_rule": .bool(true)]) }?.keyPath == "attack.any_rule")
        #expect(configError { try plan("fang-trim", ["fraction": .int(1)]).validate(againstRule: "median", catalog: catalog, f: nil, perRound: 20) } != nil)

        // Partial knowledge with one malicious update per round cannot estimate a spread.
        let alie = try #require(configError { try plan("alie").validate(againstRule: "fedavg", catalog: catalog, f: nil, perRound: 5) })
        #expect(alie.keyPath == "attack.fraction" && alie.message.contains("at least 2 malicious updates per round"))
        try plan("alie", ["knowledge": .string("omniscient")]).validate(againstRule: "fedavg", catalog: catalog, f: nil, perRound: 5)
        try plan("ipm").validate(againstRule: "fedavg", catalog: catalog, f: nil, perRound: 5)
        #expect(configError { try plan("min-max", ["clients": .array([.int(3)])]).validate(againstRule: "median", catalog: catalog, f: nil, perRound: 10) } != nil)
        // ALIE with a malicious majority: s = floor(10/2 + 1) − 6 = 0.
        #expect(configError { try plan("alie", ["fraction": .double(0.6)]).validate(againstRule: "median", catalog: catalog, f: nil, perRound: 10) }?.message.contains("s = 0") == true)
        try plan("alie").validate(againstRule: "median", catalog: catalog, f: nil, perRound: 50)
        try plan("label-flip").validate(againstRule: "krum", catalog: catalog, f: 2, perRound: 10)
        try plan("sign-flip").validate(againstRule: "geomed", catalog: catalog, f: nil, perRound: 1)
    }

    /// Targets come from the rules' declared traits, not a list in the attack: a rule added to
    /// the registry as coordinate-wise is a Fang-Trim target at once.
    @Test func targetsFollowTheRegistryTraits() throws {
        var registry = AggregatorRegistry.standard
        registry.register(AggregatorRegistry.Entry(
            kind: "my-median", summary: "test", traits: AggregatorTraits([.coordinateWise], weightMeaning: "counts as 1")
        ) { _ throws(ConfigError) in CoordinateMedian() })
        try plan("fang-trim").validate(againstRule: "my-median", catalog: registry.catalog, f: nil, perRound: 20)
        let krumLike = registry.catalog.filter { $0.value.has(.krumSelection) }.keys.sorted()
        #expect(krumLike == ["bulyan", "krum", "multi-krum"])
    }
}
