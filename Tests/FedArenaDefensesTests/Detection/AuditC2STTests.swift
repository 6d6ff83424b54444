import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import Testing

@Suite struct AuditC2STTests {
    @Test func revealedSyntheticSamplesScoreHigher() throws {
        let root = blobs(count: 60, seed: 1)
        // The reference generator collapses: narrow blobs.
        let reference = blobs(count: 60, spread: 0.3, seed: 2)
        let samples: [ClientID: LabeledSamples] = [
            ClientID(0): blobs(count: 8, seed: 10), ClientID(1): blobs(count: 8, seed: 11),
            ClientID(2): blobs(count: 8, spread: 0.3, seed: 12),
        ]
        for statistic in AuditC2ST.Statistic.allCases {
            let audit = try AuditC2ST(dimension: 128, bandwidth: 3, iterations: 100, statistic: statistic)
            let scores = try audit.audit(samples: samples, rootSet: root, referenceSynthetic: reference, seed: 4)
            let synthetic = try #require(scores[ClientID(2)])
            #expect(synthetic.score > 0.7, "\(statistic): \(synthetic.reason)")
            #expect(scores[ClientID(0)]!.score < 0.5 && scores[ClientID(1)]!.score < 0.5, "\(statistic): \(scores)")
            #expect(synthetic.reason.contains("16 revealed samples"))
            #expect((synthetic.features["z"] != nil) == (statistic == .z))
        }
    }

    @Test func theNullMakesRealSetsRoughlyStandardNormalWhateverTheirClassMix() throws {
        // 40 fresh real sets of n = 24 samples from the root set's distribution, half of them
        // all class 0, half all class 1. Under the null each z is about N(0, 1), but the 40 share
        // the estimate of μ_c from m = 60 held-out root samples a class: a share
        // ρ = (n²/m) / (n + n²/m) = 9.6 / 33.6 = 0.29 of each z's variance is common to all.
        // So their mean has variance ρ + (1 − ρ)/40 = 0.30 (3 standard deviations: 1.65) and
        // their spread around it is √(1 − ρ) = 0.85 (its own standard error about 0.1).
        let root = blobs(count: 60, seed: 1)
        let reference = blobs(count: 60, spread: 0.6, seed: 2)
        var samples = [ClientID: LabeledSamples]()
        for client in 0..<40 {
            let set = blobs(count: 24, seed: 100 + UInt64(client))
            samples[ClientID(client)] = set.subset(client % 2 == 0 ? Array(0..<24) : Array(24..<48))
        }
        let audit = try AuditC2ST(dimension: 64, bandwidth: 3, iterations: 100, statistic: .z)
        let scores = try audit.audit(samples: samples, rootSet: root, referenceSynthetic: reference, seed: 4)
        let z = try (0..<40).map { try #require(scores[ClientID($0)]?.features["z"]) }
        let mean = z.reduce(0, +) / 40
        let sd = (z.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 39).squareRoot()
        #expect(abs(mean) < 1.65 && sd > 0.55 && sd < 1.15, "z mean \(mean), sd \(sd): \(z)")
    }

    @Test func theNullComesOnlyFromRootSamplesTheGeneratorsDidNotSee() throws {
        // A reference that copies the root set's even rows exactly (a generator that memorised
        // its training set): those rows score as synthetic as the reference itself, so a null
        // drawn from them would sit far above fresh real data. Told which rows the reference
        // came from, the audit keeps them out of the null and fresh real sets stay near z = 0.
        let root = blobs(count: 60, seed: 1)
        let even = Array(stride(from: 0, to: root.count, by: 2))
        let reference = root.subset(even)
        let fresh: [ClientID: LabeledSamples] = Dictionary(uniqueKeysWithValues: (0..<6).map { (ClientID($0), blobs(count: 12, seed: 200 + UInt64($0))) })
        let audit = try AuditC2ST(dimension: 64, bandwidth: 3, iterations: 100, statistic: .z)
        let told = try audit.audit(samples: fresh, rootSet: root, referenceSynthetic: reference, referenceFittedOn: even, seed: 4)
        let untold = try audit.audit(samples: fresh, rootSet: root, referenceSynthetic: reference, seed: 4)
        let zTold: [Double] = try fresh.keys.map { try #require(told[$0]?.features["z"]) }
        let zUntold: [Double] = try fresh.keys.map { try #require(untold[$0]?.features["z"]) }
        let meanTold = zTold.reduce(0, +) / 6
        let meanUntold = zUntold.reduce(0, +) / 6
        #expect(zTold.allSatisfy { abs($0) < 3.5 }, "\(zTold)")
        #expect(meanUntold < meanTold - 1, "told \(zTold), untold \(zUntold)")
        // Too few unseen rows for the folds is an error naming the key to raise.
        #expect(throws: DetectionError.self) {
            try audit.audit(samples: fresh, rootSet: root, referenceSynthetic: reference, referenceFittedOn: Array(0..<115), seed: 4)
        }
    }

    @Test func detectNeedsReferenceSamplesAndScoresSilentClientsZero() throws {
        let root = blobs(count: 20, seed: 1)
        let updates = (0..<2).map { ClientUpdate(client: ClientID($0), round: 1, sampleCount: 1, delta: ParameterVector([0])) }
        let context = detectionContext(dimension: 1, rootSet: root)
        let pipeline = DetectionPipeline(detectors: [try AuditC2ST(dimension: 32, bandwidth: 3, iterations: 20)], policy: .standard)
        var rng = SeededGenerator(seed: 1)
        #expect(throws: DetectionError.self) { try pipeline.run(updates, context: context, using: &rng) }
        var ready = context
        ready.revealedSamples = [ClientID(0): blobs(count: 3, seed: 5)]
        ready.referenceSynthetic = blobs(count: 20, spread: 0.2, seed: 6)
        #expect(pipeline.requirements == DetectorRequirements(revealedSamples: 16))
        // Only the z statistic asks the runtime to keep root samples from the reference generators.
        #expect(try AuditC2ST(statistic: .z).requirements == DetectorRequirements(revealedSamples: 16, referenceHoldout: true))
        let report = try pipeline.run(updates, context: ready, using: &rng)
        #expect(report.suspicions["audit-c2st"]?[ClientID(1)] == Suspicion(score: 0, reason: "revealed no audit samples"))
        #expect(report.suspicions["audit-c2st"]?[ClientID(0)] != nil)
    }
}

