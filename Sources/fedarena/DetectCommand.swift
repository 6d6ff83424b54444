import ArgumentParser
import FedArenaCore
import FedArenaData
import FedArenaDefenses
import FedArenaReports
import Foundation

/// `fedarena detect`: test a candidate sample set against real reference data, offline.
struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Score a candidate sample set (e.g. from your own generator) against real data and print JSON with a verdict.",
        discussion: """
              fedarena detect --reference real.npy --reference-labels y.npy --candidate cand.npy --candidate-labels yc.npy
            Features: n x d float32 in [0, 1] (any d, the same for both sets; 784 for Fashion-MNIST); labels: whole class
            indices of any numeric dtype (fedarena synth --out FILE.npy writes both).
            Detectors: sketch MMD against a subsampling null from the reference, a real-vs-candidate classifier
            (C2ST), and per-class spread / tail statistics. The verdict is "synthetic" when any p-value is at most alpha/3.
            """)

    @Option(help: "Real samples: an n x d float32 NPY in [0, 1].")
    var reference: String

    @Option(help: "Class labels of the real samples: a length-n NPY of whole numbers.")
    var referenceLabels: String

    @Option(help: "Candidate samples to judge: an m x d float32 NPY in [0, 1].")
    var candidate: String

    @Option(help: "Class labels of the candidates: a length-m NPY of whole numbers.")
    var candidateLabels: String

    @Option(help: "Significance level; the verdict uses alpha/3 per detector (Bonferroni).")
    var alpha: Double = 0.05

    @Option(help: "Seed of the random features and subsampling.")
    var seed: UInt64 = 0

    func validate() throws {
        guard alpha > 0, alpha < 1 else { throw ValidationError("--alpha must be in (0, 1), got \(alpha)") }
    }

    func run() throws {
        do throws(CommandFailure) {
            var real = try load(reference, referenceLabels, what: "--reference")
            var candidates = try load(candidate, candidateLabels, what: "--candidate")
            guard real.featureCount == candidates.featureCount else {
                throw CommandFailure("--candidate \(candidate) has \(candidates.featureCount) features per sample, --reference \(reference) has \(real.featureCount)")
            }
            // One class count for both: the largest label of either + 1.
            let classes = max(real.classCount, candidates.classCount)
            real = LabeledSamples(features: real.features, labels: real.labels, featureCount: real.featureCount, classCount: classes)
            candidates = LabeledSamples(
                features: candidates.features, labels: candidates.labels, featureCount: candidates.featureCount, classCount: classes)
            var configuration = OfflineDetection.Configuration()
            configuration.alpha = alpha
            let report: OfflineDetection.Report
            do {
                report = try OfflineDetection.evaluate(reference: real, candidate: candidates, seed: seed, configuration: configuration)
            } catch {
                throw CommandFailure("\(error)")
            }
            let json: ConfigValue = .object([
                "verdict": .string(report.verdict.rawValue),
                "alpha": JSONText.number(alpha),
                "reference_samples": .int(real.count),
                "candidate_samples": .int(candidates.count),
                "detectors": .array(report.results.map { result in
                    .object([
                        "detector": .string(result.detector), "score": JSONText.number(result.score),
                        "p_value": JSONText.number(result.pValue), "reason": .string(result.reason),
                    ])
                }),
            ])
            print(JSONText.render(json, pretty: true))
        } catch {
            printError("fedarena detect: \(error.message)")
            throw ExitCode(2)
        }
    }

    private func load(_ featuresPath: String, _ labelsPath: String, what: String) throws(CommandFailure) -> LabeledSamples {
        let features: [Float], shape: [Int], labels: [Float], labelShape: [Int]
        do {
            (features, shape) = try NPYFile.read(featuresPath, allowConversion: true)
            (labels, labelShape) = try NPYFile.read(labelsPath, allowConversion: true)
        } catch {
            throw CommandFailure("\(what): \(error)")
        }
        guard shape.count == 2, shape[1] >= 1 else {
            throw CommandFailure("\(what) \(featuresPath): expected n x d samples (one row per sample), got shape \(shape)")
        }
        guard labelShape == [shape[0]] else {
            throw CommandFailure("\(what) labels \(labelsPath): expected \(shape[0]) labels, got shape \(labelShape)")
        }
        if let bad = features.firstIndex(where: { !($0.isFinite && $0 >= 0 && $0 <= 1) }) {
            throw CommandFailure("\(what) \(featuresPath): value \(bad) is \(features[bad]); features must be in [0, 1]")
        }
        guard labels.allSatisfy({ $0 >= 0 && $0 < 4_096 && $0 == $0.rounded() }) else {
            throw CommandFailure("\(what) labels \(labelsPath): labels must be whole class indices in 0..<4096")
        }
        let classes = Int(labels.max() ?? 0) + 1
        return LabeledSamples(features: features, labels: labels.map { Int32($0) }, featureCount: shape[1], classCount: classes)
    }
}
