import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import Testing

@Suite struct SuspicionFusionTests {
    func suspicions(_ scores: [Double]) -> [ClientID: Suspicion] {
        Dictionary(uniqueKeysWithValues: scores.enumerated().map { (ClientID($0.offset), Suspicion(score: $0.element, reason: "r\($0.offset)")) })
    }

    @Test func calibrationHitsTheTargetFalsePositiveRateOnCleanRounds() throws {
        // 20 clients with i.i.d. uniform clean scores; 10 calibration rounds (200 scores). The
        // initial threshold of 1 flags nobody, so every clean score joins the pool.
        let fusion = SuspicionFusion(policy: try DetectionPolicy(
            targetFPR: 0.1, calibrationRounds: 10, smoothing: 0, initialThreshold: 1, minimumThreshold: 0, maxFlaggedFraction: 1))
        var rng = SeededGenerator(seed: 8)
        var memory = AggregatorMemory()
        let clients = (0..<20).map(ClientID.init)
        var flagged = 0
        var total = 0
        for round in 1...110 {
            let outcome = fusion.fuse([("d", suspicions((0..<20).map { _ in rng.unitDouble() }))], clients: clients, memory: memory)
            memory = outcome.memory
            #expect(outcome.calibrating == (round <= 10))
            if round > 10 {
                flagged += outcome.decisions.values.filter(\.flagged).count
                total += 20
            }
        }
        let threshold = try #require(memory.scalars[SuspicionFusion.thresholdKey])
        #expect(abs(threshold - 0.9) < 0.05)
        let rate = Double(flagged) / Double(total)
        #expect(abs(rate - 0.1) < 0.04)
    }

    @Test func anAttackFromTheFirstRoundDoesNotRaiseTheThreshold() throws {
        // 18 clean clients with scores in [0, 0.5) and 2 attackers at 0.99 from round 1.
        let fusion = SuspicionFusion(policy: try DetectionPolicy(targetFPR: 0.05, calibrationRounds: 3, smoothing: 0, minimumThreshold: 0, maxFlaggedFraction: 1))
        var rng = SeededGenerator(seed: 3)
        var memory = AggregatorMemory()
        let clients = (0..<20).map(ClientID.init)
        for _ in 1...5 {
            let outcome = fusion.fuse([("d", suspicions((0..<20).map { $0 < 2 ? 0.99 : rng.unitDouble() * 0.5 }))], clients: clients, memory: memory)
            memory = outcome.memory
            #expect(outcome.decisions[ClientID(0)]?.flagged == true)
            #expect(outcome.decisions[ClientID(1)]?.flagged == true)
        }
        let threshold = try #require(memory.scalars[SuspicionFusion.thresholdKey])
        #expect(threshold < 0.5)
    }

    @Test func excludeDownweightAndReport() throws {
        let scores = [("a", suspicions([0.1, 0.95, 0.2])), ("b", suspicions([0.3, 0.1, 0.99]))]
        let clients = (0..<3).map(ClientID.init)
        let exclude = SuspicionFusion(policy: try DetectionPolicy(fixedThreshold: 0.8, maxFlaggedFraction: 1))
        let e = exclude.fuse(scores, clients: clients, memory: AggregatorMemory())
        #expect(e.decisions[ClientID(0)]?.action == .accept)
        #expect(e.decisions[ClientID(1)]?.action == .exclude)
        #expect(e.decisions[ClientID(2)]?.action == .exclude)
        #expect(e.decisions[ClientID(2)]?.reasons.first == "b 0.99: r2")
        #expect(e.decisions[ClientID(0)]?.fusedScore == 0.3)

        let down = SuspicionFusion(policy: try DetectionPolicy(action: .downweight, fixedThreshold: 0.8, maxFlaggedFraction: 1))
        let d = down.fuse(scores, clients: clients, memory: AggregatorMemory())
        guard case .downweight(let factor) = d.decisions[ClientID(1)]?.action else { Issue.record("expected a down-weight"); return }
        #expect(abs(factor - 0.125) < 1e-9)  // ½ (1 − 0.95) / (1 − 0.8)
        #expect(d.decisions[ClientID(0)]?.weight == 1)

        let mean = SuspicionFusion(policy: try DetectionPolicy(action: .report, combine: .mean, fixedThreshold: 0.5, maxFlaggedFraction: 1))
        let m = mean.fuse(scores, clients: clients, memory: AggregatorMemory())
        #expect(m.decisions[ClientID(1)]?.fusedScore == 0.525)
        #expect(m.decisions[ClientID(1)]?.flagged == true && m.decisions[ClientID(1)]?.action == .accept)
    }

    @Test func smoothingAndTheFlaggedCap() throws {
        let fusion = SuspicionFusion(policy: try DetectionPolicy(smoothing: 0.5, fixedThreshold: 0.5, maxFlaggedFraction: 0.25))
        let clients = (0..<4).map(ClientID.init)
        let first = fusion.fuse([("d", suspicions([1, 0.9, 0.8, 0]))], clients: clients, memory: AggregatorMemory())
        #expect(first.decisions.values.filter(\.flagged).map(\.client) == [ClientID(0)])
        #expect(first.decisions[ClientID(1)]?.reasons.first?.contains("max_flagged_fraction") == true)
        let second = fusion.fuse([("d", suspicions([0, 0, 0, 0]))], clients: clients, memory: first.memory)
        #expect(second.decisions[ClientID(0)]?.score == 0.5)
        #expect(second.decisions[ClientID(0)]?.flagged == false)
    }

    @Test func pipelineRunsDetectorsAndKeepsTheirMemory() throws {
        var rng = SeededGenerator(seed: 11)
        let (plain, direction) = honestRound(bad: [])
        let sybil = direction.map { $0 + Float(0.3 * rng.normal()) }
        let updates = plain + [8, 9].map { ClientUpdate(client: ClientID($0), round: 1, sampleCount: 10, delta: ParameterVector(sybil)) }
        let pipeline = DetectionPipeline(detectors: [try UpdateSimilarity()], policy: try DetectionPolicy(calibrationRounds: 3))
        let report = try pipeline.run(updates, context: detectionContext(dimension: 50), using: &rng)
        #expect(report.flagged == [ClientID(8), ClientID(9)])
        #expect(report.calibrating)
        #expect(report.kept(updates).count == 8)
        #expect(report.memory.vectors[UpdateSimilarity.historyKey(ClientID(0))] != nil)
        #expect(report.memory.scalars[SuspicionFusion.emaKey(ClientID(0))] != nil)
        #expect(report.memory.scalars[SuspicionFusion.calibratedRoundsKey] == 1)
    }

    /// `⌈level · N⌉` is exact: `0.07 × 100 = 7.000000000000001` in binary64, whose ceiling
    /// would be 8; the 7th smallest of 1...100 is 7.
    @Test func quantileRankIsExactForDecimalLevels() {
        let values = (1...100).map(Double.init)
        #expect(SuspicionFusion.quantile(values, level: 0.07) == 7)
        #expect(SuspicionFusion.quantile(values, level: 0.29) == 29)
        #expect(SuspicionFusion.quantile(values, level: 1 - 0.93) == 7)
    }

    /// `⌊max_flagged_fraction · n⌋` is exact: 0.29 of 100 clients is 29 (binary64 gives
    /// 28.999999999999996).
    @Test func flaggedLimitIsExactForDecimalFractions() throws {
        let fusion = SuspicionFusion(policy: try DetectionPolicy(
            calibrationRounds: 0, smoothing: 0, fixedThreshold: 0.5, maxFlaggedFraction: 0.29))
        let clients = (0..<100).map(ClientID.init)
        let outcome = fusion.fuse([("d", suspicions([Double](repeating: 0.9, count: 100)))], clients: clients, memory: AggregatorMemory())
        #expect(outcome.decisions.values.filter(\.flagged).count == 29)
    }

    @Test func perDetectorThresholdsMapOntoTheFixedOne() throws {
        // By hand, τ = 0.47, τ_d = 0.26: 0.26 ↦ 0.47; 0.13 ↦ 0.13 · 0.47 / 0.26 = 0.235;
        // 0.63 ↦ 0.47 + 0.37 · 0.53 / 0.74 = 0.735; the ends stay; values outside [0, 1] clip.
        #expect(SuspicionFusion.map(0.26, threshold: 0.26, onto: 0.47) == 0.47)
        #expect(abs(SuspicionFusion.map(0.13, threshold: 0.26, onto: 0.47) - 0.235) < 1e-12)
        #expect(abs(SuspicionFusion.map(0.63, threshold: 0.26, onto: 0.47) - 0.735) < 1e-12)
        #expect(SuspicionFusion.map(0, threshold: 0.26, onto: 0.47) == 0 && SuspicionFusion.map(1, threshold: 0.26, onto: 0.47) == 1)
        #expect(SuspicionFusion.map(1.5, threshold: 0.26, onto: 0.47) == 1 && SuspicionFusion.map(-1, threshold: 0.26, onto: 0.47) == 0)

        // Detector a's threshold 0.2, b's 0.8, fused threshold 0.5, no smoothing.
        // Client 0: a 0.3 ↦ 0.5 + 0.1 · 0.5 / 0.8 = 0.5625 > 0.5: flagged (a fired).
        // Client 1: a 0.1 ↦ 0.25, b 0.7 ↦ 0.4375: not flagged, though its raw max 0.7 > 0.5.
        // Client 2: b 0.85 ↦ 0.5 + 0.05 · 0.5 / 0.2 = 0.625: flagged (b fired).
        let scores = [("a", suspicions([0.3, 0.1, 0.15])), ("b", suspicions([0.1, 0.7, 0.85]))]
        let clients = (0..<3).map(ClientID.init)
        let policy = try DetectionPolicy(smoothing: 0, fixedThreshold: 0.5, maxFlaggedFraction: 1, detectorThresholds: ["a": 0.2, "b": 0.8])
        let outcome = SuspicionFusion(policy: policy).fuse(scores, clients: clients, memory: AggregatorMemory())
        #expect(abs(outcome.decisions[ClientID(0)]!.fusedScore - 0.5625) < 1e-12)
        #expect(abs(outcome.decisions[ClientID(1)]!.fusedScore - 0.4375) < 1e-12)
        #expect(abs(outcome.decisions[ClientID(2)]!.fusedScore - 0.625) < 1e-12)
        #expect(clients.map { outcome.decisions[$0]!.flagged } == [true, false, true])
        // The reasons keep each detector's own score.
        #expect(outcome.decisions[ClientID(2)]?.reasons.first == "b 0.85: r2")
    }

    @Test func perDetectorThresholdsAreCheckedWhereTheyAreWritten() throws {
        func read(_ object: [String: ConfigValue]) throws -> DetectionPolicy {
            try DetectionPolicy.read(try ConfigReader(.object(object), path: "defense.detection_policy"))
        }
        let policy = try read(["threshold": .double(0.47), "detector_thresholds": .object(["audit-c2st": .double(0.26)])])
        #expect(policy.detectorThresholds == ["audit-c2st": 0.26])
        #expect { try read(["detector_thresholds": .object(["audit-c2st": .double(0.26)])]) } throws: { error in
            (error as! ConfigError).keyPath == "defense.detection_policy" && "\(error)".contains("fixed threshold")
        }
        #expect { try read(["threshold": .double(0.5), "detector_thresholds": .object(["audit-c2st": .double(1)])]) } throws: { error in
            "\(error)".contains("detector_thresholds.audit-c2st must be in (0, 1)")
        }
        #expect { try read(["threshold": .double(0.5), "detector_thresholds": .double(0.3)]) } throws: { error in
            (error as! ConfigError).keyPath == "defense.detection_policy.detector_thresholds"
        }
        // A name no detector of the pipeline has is refused by the registry, at its key path.
        let named = try read(["threshold": .double(0.5), "detector_thresholds": .object(["audit-c2s": .double(0.3)])])
        let specs = [ComponentSpec(kind: "update-similarity", options: [:], keyPath: "defense.detection[0]")]
        #expect { try DetectorRegistry.standard.makePipeline(specs, policy: named) } throws: { error in
            (error as! ConfigError).keyPath == "defense.detection_policy.detector_thresholds.audit-c2s"
                && "\(error)".contains("have: update-similarity")
        }
    }
}
