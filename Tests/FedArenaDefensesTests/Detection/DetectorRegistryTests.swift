import FedArenaCore
import FedArenaDefenses
import FedArenaModels
import Testing

@Suite struct DetectorRegistryTests {
    func spec(_ kind: String, _ options: [String: ConfigValue] = [:]) -> ComponentSpec {
        ComponentSpec(kind: kind, options: options, keyPath: "defense.detectors[0]")
    }

    @Test func buildsEveryDetectorWithOptions() throws {
        let registry = DetectorRegistry.standard(model: .mlp(hidden: [8]), inputs: 4, classes: 3)
        #expect(registry.kinds == ["audit-c2st", "label-consistency", "pixel-grid", "root-audit", "sketch-mmd", "training-audit", "update-similarity"])
        let audit = try #require(try registry.make(spec("root-audit", ["z_center": .double(2.5)])) as? RootAudit)
        #expect(audit.zCenter == 2.5 && audit.model.parameterCount == 4 * 8 + 8 + 8 * 3 + 3)
        let mmd = try #require(
            try registry.make(spec("sketch-mmd", ["dimension": .int(64), "noise_epsilon": .double(0.5), "noise_delta": .double(1e-5)])) as? SketchMMD)
        #expect(mmd.dimension == 64 && mmd.noise?.epsilon == 0.5)
        let similarity = try #require(try registry.make(spec("update-similarity", ["sybil_cosine": .double(0.95)])) as? UpdateSimilarity)
        #expect(similarity.sybilCosine == 0.95)
        let c2st = try #require(try registry.make(spec("audit-c2st", ["samples_per_client": .int(8)])) as? AuditC2ST)
        #expect(c2st.samplesPerClient == 8)
    }

    @Test func errorsNameTheKeyPath() {
        let registry = DetectorRegistry.standard
        #expect { try registry.make(spec("sketch-mdm")) } throws: { error in
            let e = error as! ConfigError
            return e.keyPath == "defense.detectors[0].kind" && e.message.contains("did you mean \"sketch-mmd\"")
        }
        #expect { try registry.make(spec("update-similarity", ["sybil_cosin": .double(0.9)])) } throws: { error in
            let e = error as! ConfigError
            return e.code == .unknownKey && e.keyPath == "defense.detectors[0].sybil_cosin"
        }
        #expect { try registry.make(spec("sketch-mmd", ["noise_epsilon": .double(0.5)])) } throws: { error in
            (error as! ConfigError).keyPath == "defense.detectors[0].noise_delta"
        }
        #expect { try registry.make(spec("sketch-mmd", ["noise_epsilon": .double(3), "noise_delta": .double(1e-5)])) } throws: { error in
            (error as! ConfigError).message.contains("epsilon")
        }
        #expect { try registry.make(spec("sketch-mmd", ["dimension": .string("big")])) } throws: { error in
            (error as! ConfigError).code == .wrongType
        }
        #expect(throws: ConfigError.self) { try registry.makeAll([spec("root-audit"), spec("root-audit")]) }
    }

    @Test func policyReadsAndRejects() throws {
        let reader = try ConfigReader(
            .object(["action": .string("downweight"), "target_fpr": .double(0.1), "calibration_rounds": .int(5), "smoothing": .double(0.3)]),
            path: "defense.detection_policy")
        let policy = try DetectionPolicy.read(reader)
        #expect(policy.action == .downweight && policy.targetFPR == 0.1 && policy.calibrationRounds == 5 && policy.smoothing == 0.3)
        #expect(policy.fixedThreshold == nil && policy.combine == .max)
        let fixed = try DetectionPolicy.read(try ConfigReader(.object(["threshold": .double(0.7)]), path: "p"))
        #expect(fixed.fixedThreshold == 0.7)
        #expect { try DetectionPolicy.read(try ConfigReader(.object(["action": .string("drop")]), path: "p")) } throws: { error in
            (error as! ConfigError).keyPath == "p.action"
        }
        #expect { try DetectionPolicy.read(try ConfigReader(.object(["smothing": .double(0.5)]), path: "p")) } throws: { error in
            (error as! ConfigError).code == .unknownKey
        }
        #expect(throws: ConfigError.self) { try DetectionPolicy.read(try ConfigReader(.object(["smoothing": .double(1)]), path: "p")) }
    }
}
