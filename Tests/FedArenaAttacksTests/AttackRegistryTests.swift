import FedArenaAttacks
import FedArenaCore
import Testing

@Suite struct AttackRegistryTests {
    func make(_ kind: String, _ options: [String: ConfigValue] = [:]) throws(ConfigError) -> AttackPlan {
        try AttackRegistry.standard.make(ComponentSpec(kind: kind, options: options, keyPath: "attack"))
    }

    @Test func buildsTheIssueExamples() throws {
        let flip = try make("label-flip", [
            "source": .int(0), "target": .int(6), "rate": .double(1), "fraction": .double(0.2), "boost": .int(5),
            "start": .int(1), "every": .int(1),
        ])
        #expect(flip.kind == "label-flip")
        #expect((flip.dataAttack as? LabelFlip)?.source == 0 && (flip.dataAttack as? LabelFlip)?.target == 6)
        #expect((flip.updateAttack as? Boost)?.factor == 5)
        #expect(flip.objective == .targetedFlip(source: 0, target: 6))
        #expect(flip.knowledge == .none && flip.fraction == 0.2 && flip.schedule == .always && !flip.poolsUpdates)

        let alie = try make("alie", ["fraction": .double(0.2), "knowledge": .string("partial")])
        #expect(alie.updateAttack is ALIE && alie.knowledge == .partial && alie.poolsUpdates && alie.objective == .untargeted)

        let minMax = try make("min-max", ["perturbation": .string("std"), "knowledge": .string("omniscient")])
        #expect((minMax.updateAttack as? AgnosticAttack)?.perturbation == .std && minMax.knowledge == .omniscient)

        let fang = try make("fang-krum", ["f": .int(10)])
        #expect((fang.updateAttack as? FangKrum)?.f == 10 && fang.knowledge == .omniscient)

        let flipSign = try make("sign-flip", ["scale": .int(4)])
        #expect((flipSign.updateAttack as? SignFlip)?.scale == 4 && flipSign.dataAttack == nil && flipSign.knowledge == .none)

        let backdoor = try make("backdoor", [
            "target": .int(2), "rate": .double(0.25), "mode": .string("append"), "at": .int(3),
            "trigger": .object(["row": .int(0), "column": .int(1), "size": .int(4), "value": .double(0.5)]),
        ])
        let attack = try #require(backdoor.dataAttack as? Backdoor)
        #expect(attack.trigger == Trigger(imageSide: 28, row: 0, column: 1, size: 4, value: 0.5))
        #expect(attack.target == 2 && attack.rate == 0.25 && attack.mode == .append)
        #expect(backdoor.schedule == .singleShot(at: 3) && backdoor.updateAttack == nil)
    }

    @Test func everyKindBuildsWithItsDefaultsUnderItsName() throws {
        for kind in AttackRegistry.standard.kinds {
            let plan = try make(kind)
            let name = plan.dataAttack?.name ?? plan.updateAttack?.name
            #expect(name == kind)
            #expect(plan.knowledge == plan.requiredKnowledge)
            #expect(plan.fraction == 0.2)
        }
        #expect(AttackRegistry.standard.kinds.count == 13)
    }

    @Test func unknownKindAndKeySuggestTheNearestName() throws {
        let kind = try #require(configError { _ = try make("alei") })
        #expect(kind.keyPath == "attack.kind" && kind.message.contains("did you mean \"alie\""))
        let key = try #require(configError { _ = try make("sign-flip", ["sacle": .int(4)]) })
        #expect(key.code == .unknownKey && key.keyPath == "attack.sacle" && key.message.contains("did you mean \"scale\""))
        let trigger = try #require(configError { _ = try make("backdoor", ["trigger": .object(["rows": .int(1)])]) })
        #expect(trigger.keyPath == "attack.trigger.rows")
    }

    @Test func knowledgeBelowTheAttacksMinimumIsRefused() throws {
        let error = try #require(configError { _ = try make("alie", ["knowledge": .string("none")]) })
        #expect(error.keyPath == "attack.knowledge")
        #expect(error.message == "alie needs knowledge partial or more, got none")
        let fang = try #require(configError { _ = try make("fang-trim", ["knowledge": .string("partial")]) })
        #expect(fang.message == "fang-trim needs knowledge omniscient or more, got partial")
        #expect(configError { _ = try make("ipm", ["knowledge": .string("all")]) }?.keyPath == "attack.knowledge")
        #expect(try make("sign-flip", ["knowledge": .string("omniscient")]).knowledge == .omniscient)
    }

    @Test func fractionAndClientsAreChecked() throws {
        for bad in [0.0, -0.1, 1.5] {
            #expect(configError { _ = try make("sign-flip", ["fraction": .double(bad)]) }?.keyPath == "attack.fraction")
        }
        #expect(try make("sign-flip", ["fraction": .int(1)]).fraction == 1)
        let both = try #require(configError { _ = try make("ipm", ["fraction": .double(0.1), "clients": .array([.int(1)])]) })
        #expect(both.keyPath == "attack.fraction")
        let twice = try #require(configError { _ = try make("ipm", ["clients": .array([.int(1), .int(4), .int(1)])]) })
        #expect(twice.keyPath == "attack.clients[2]")
        #expect(configError { _ = try make("ipm", ["clients": .array([.int(-1)])]) }?.keyPath == "attack.clients[0]")
        #expect(try make("ipm", ["clients": .array([.int(4), .int(1)])]).clients == [ClientID(4), ClientID(1)])
    }

    @Test func attackParametersAreCheckedAtTheirKeys() throws {
        #expect(configError { _ = try make("label-flip", ["target": .int(3)]) }?.keyPath == "attack.target")
        #expect(configError { _ = try make("label-flip", ["source": .int(12), "target": .int(1)]) }?.keyPath == "attack.source")
        #expect(configError { _ = try make("label-flip", ["rate": .double(2)]) }?.keyPath == "attack.rate")
        #expect(configError { _ = try make("backdoor", ["trigger": .object(["row": .int(27)])]) }?.keyPath == "attack.trigger")
        #expect(configError { _ = try make("backdoor", ["target": .int(10)]) }?.keyPath == "attack.target")
        #expect(configError { _ = try make("sign-flip", ["scale": .int(-1)]) }?.keyPath == "attack.scale")
        #expect(configError { _ = try make("min-sum", ["perturbation": .string("unit-vector")]) }?.keyPath == "attack.perturbation")
        #expect(configError { _ = try make("label-flip", ["boost": .int(0)]) }?.keyPath == "attack.boost")
        let boost = try #require(configError { _ = try make("alie", ["boost": .int(3)]) })
        #expect(boost.keyPath == "attack.boost" && boost.message.contains("only after a data attack"))
        // A data set with 3 classes of 5x5 images.
        let shape = AttackRegistry.DataShape(classCount: 3, imageSide: 5)
        let small = try AttackRegistry.standard.make(ComponentSpec(kind: "backdoor", options: ["trigger": .object(["row": .int(2)])], keyPath: "attack"), shape: shape)
        #expect((small.dataAttack as? Backdoor)?.trigger == Trigger(imageSide: 5, row: 2, column: 1, size: 3, value: 1))
        #expect((try make("backdoor").dataAttack as? Backdoor)?.trigger == Trigger())
        #expect(configError { _ = try AttackRegistry.standard.make(ComponentSpec(kind: "label-flip", options: ["source": .int(0), "target": .int(5)], keyPath: "attack"), shape: shape) } != nil)
    }
}
