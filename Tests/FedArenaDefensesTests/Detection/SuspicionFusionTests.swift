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
}
