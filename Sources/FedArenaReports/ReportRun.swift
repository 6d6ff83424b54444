import FedArenaCore
import Foundation

/// One chart of a report: its SVG and the words around it.
public struct ReportChart: Sendable {
    /// The chart's id (`chart-accuracy`); its file is `charts/<id minus "chart-">.svg`.
    public var id: String
    /// The heading of its figure.
    public var title: String
    /// What it shows and how it was computed.
    public var caption: String
    /// The SVG document.
    public var svg: String

    /// The file name under `charts/`.
    public var fileName: String { (id.hasPrefix("chart-") ? String(id.dropFirst(6)) : id) + ".svg" }
}

/// A run folder read for its report through the typed run records (``RunRecords``):
/// `summary.json`, `metrics.jsonl` and, when present, `scenario.yaml`.
public struct ReportRun: Sendable {
    /// The run folder.
    public var folder: String
    /// `summary.json`.
    public var summary: RunSummary
    /// `metrics.jsonl`, one record per round.
    public var rounds: [RoundMetrics]
    /// `scenario.yaml`, if present.
    public var scenarioYAML: String?

    /// Reads a run folder.
    /// - Parameter folder: a folder with `summary.json` and `metrics.jsonl`.
    /// - Throws: ``ReportError`` naming the file that is missing or malformed.
    public init(folder: String) throws(ReportError) {
        self.folder = folder
        summary = try RunRecords.readSummary(in: folder)
        rounds = try RunRecords.readMetrics(in: folder)
        let scenario = folder + "/scenario.yaml"
        if FileManager.default.fileExists(atPath: scenario) {
            do {
                scenarioYAML = try String(contentsOfFile: scenario, encoding: .utf8)
            } catch {
                throw ReportError("cannot read \(scenario): \(error.localizedDescription)")
            }
        }
    }

    /// Parses a JSON file into a tree.
    static func json(at path: String) throws(ReportError) -> ConfigValue {
        do {
            return try JSONDecoder().decode(ConfigValue.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw ReportError("cannot read \(path): \(error)")
        }
    }

    /// The round numbers.
    public var roundNumbers: [Double] { rounds.map { Double($0.round) } }

    /// The true malicious clients (`summary.json` `attack.malicious_clients`).
    public var maliciousClients: Set<Int> { Set(summary.attack?.maliciousClients ?? []) }

    /// Per round, each client's fused suspicion score (`metrics.jsonl` `detection.scores`).
    public var suspicion: [[Int: Double]] {
        rounds.map { round in
            var result = [Int: Double]()
            for (key, value) in round.detection?.scores ?? [:] {
                if let client = Int(key), let score = value, score.isFinite { result[client] = score }
            }
            return result
        }
    }

    /// The ROC of the suspicion scores against the true roles, counted as the detection rates
    /// are (``DetectionSummary/countedClientRounds``): a malicious client's rounds with its
    /// attack active are positives, honest clients' rounds negatives, idle malicious rounds
    /// left out. `nil` without detection or without both kinds.
    public var roc: ReportROC? {
        let malicious = maliciousClients
        var samples = [(score: Double, positive: Bool)]()
        for (round, scores) in zip(rounds, suspicion) {
            let attacking = round.attacking.map(Set.init) ?? malicious
            for (client, score) in scores {
                if attacking.contains(client) {
                    samples.append((score, true))
                } else if !malicious.contains(client) {
                    samples.append((score, false))
                }
            }
        }
        return ReportROC(samples)
    }

    /// Per round, the mean aggregation weight of the selected honest and malicious clients (a
    /// selected client without a weight, excluded or not chosen by the rule, counts 0); `nil`
    /// where a round has no weights or no client of the role.
    public var meanWeights: (honest: [Double?], malicious: [Double?]) {
        let malicious = maliciousClients
        var honestMean = [Double?]()
        var maliciousMean = [Double?]()
        for round in rounds {
            guard !round.weights.isEmpty else {
                honestMean.append(nil)
                maliciousMean.append(nil)
                continue
            }
            let selected = round.selected.isEmpty ? round.weights.keys.compactMap { Int($0) } : round.selected
            let weight = { (client: Int) in round.weights[String(client)] ?? 0 }
            let bad = selected.filter(malicious.contains)
            let good = selected.filter { !malicious.contains($0) }
            maliciousMean.append(bad.isEmpty ? nil : bad.map(weight).reduce(0, +) / Double(bad.count))
            honestMean.append(good.isEmpty ? nil : good.map(weight).reduce(0, +) / Double(good.count))
        }
        return (honestMean, maliciousMean)
    }

    /// Every chart the run's records support, in page order.
    public func charts() -> [ReportChart] {
        var charts = [ReportChart]()
        let x = roundNumbers
        let accuracy = rounds.map(\.accuracy)
        charts.append(ReportChart(
            id: "chart-accuracy", title: "Test accuracy per round",
            caption: "Accuracy of the global model on the test set after each round's aggregate was applied.",
            svg: SVGLineChart(
                id: "chart-accuracy", title: "Test accuracy", xLabel: "round", yLabel: "accuracy",
                series: [.init(name: "test accuracy", x: x, y: accuracy, markers: x.count <= 30)], yDomain: 0...1
            ).render()))
        let loss = rounds.map(\.loss)
        let trainLoss = rounds.map(\.meanTrainLoss)
        charts.append(ReportChart(
            id: "chart-loss", title: "Loss per round",
            caption: "Test loss of the global model, and the mean training loss the accepted clients reported.",
            svg: SVGLineChart(
                id: "chart-loss", title: "Loss", xLabel: "round", yLabel: "cross-entropy",
                series: [
                    .init(name: "test loss", x: x, y: loss, markers: x.count <= 30),
                    .init(name: "mean client training loss", x: x, y: trainLoss, dashed: true),
                ]
            ).render()))
        let asr = rounds.map(\.asr)
        if asr.contains(where: { $0 != nil }) {
            charts.append(ReportChart(
                id: "chart-asr", title: "Attack success rate per round",
                caption: "Backdoor: share of non-target test samples, trigger stamped, classified as the target. "
                    + "Targeted flip: share of source-class test samples classified as the target.",
                svg: SVGLineChart(
                    id: "chart-asr", title: "Attack success rate", xLabel: "round", yLabel: "ASR",
                    series: [.init(name: "ASR", x: x, y: asr, color: "#d62728", markers: x.count <= 30)], yDomain: 0...1
                ).render()))
        }
        let perClass = rounds.map(\.perClassAccuracy)
        let classes = perClass.map(\.count).max() ?? 0
        if classes > 0 {
            let grid = (0..<classes).map { label in perClass.map { label < $0.count ? $0[label] : nil } }
            charts.append(ReportChart(
                id: "chart-per-class-accuracy", title: "Per-class accuracy over rounds",
                caption: "Test accuracy of each class (rows) after each round (columns); bright is high.",
                svg: SVGHeatmap(
                    id: "chart-per-class-accuracy", title: "Per-class test accuracy", xLabel: "round", yLabel: "class",
                    rowLabels: (0..<classes).map { "class \($0)" }, columnLabels: x.map { String(Int($0)) }, values: grid,
                    domain: 0...1, showValues: false
                ).render()))
        }
        let malicious = maliciousClients
        let scores = suspicion
        let clients = Set(scores.flatMap(\.keys)).sorted()
        if !clients.isEmpty {
            charts.append(ReportChart(
                id: "chart-suspicion", title: "Suspicion per client over rounds",
                caption: "The detectors' fused suspicion score of each client (rows) in each round (columns); "
                    + "red dots mark the clients that were truly malicious. Bright is suspicious.",
                svg: SVGHeatmap(
                    id: "chart-suspicion", title: "Suspicion scores", xLabel: "round", yLabel: "client",
                    rowLabels: clients.map { "client \($0)" }, columnLabels: x.map { String(Int($0)) },
                    values: clients.map { client in scores.map { $0[client] } }, domain: 0...1,
                    markedRows: Set(clients.indices.filter { malicious.contains(clients[$0]) }),
                    markNote: malicious.isEmpty ? "no malicious client in this run" : "malicious client (true role)"
                ).render()))
            if let roc {
                charts.append(ReportChart(
                    id: "chart-roc", title: "Detection ROC",
                    caption: "ROC of the suspicion scores against the true roles over \(roc.positives) attacking and "
                        + "\(roc.negatives) honest client-rounds (idle malicious rounds left out); AUC \(String(format: "%.3f", roc.auc)).",
                    svg: SVGLineChart(
                        id: "chart-roc", title: "Detection ROC (AUC \(String(format: "%.3f", roc.auc)))",
                        xLabel: "false-positive rate", yLabel: "true-positive rate",
                        series: [
                            .init(name: "suspicion score", x: roc.points.map(\.fpr), y: roc.points.map(\.tpr), color: "#d62728", markers: roc.points.count <= 40),
                            .init(name: "chance", x: [0, 1], y: [0, 1], color: "#999999", dashed: true),
                        ],
                        yDomain: 0...1, xDomain: 0...1, integerX: false, width: 520, height: 400
                    ).render()))
            }
        }
        if !malicious.isEmpty {
            let (honestMean, maliciousMean) = meanWeights
            if maliciousMean.contains(where: { $0 != nil }) || honestMean.contains(where: { $0 != nil }) {
                charts.append(ReportChart(
                    id: "chart-weights", title: "Aggregation weights, malicious vs honest",
                    caption: "Mean aggregation weight per selected client in each round, for the truly malicious "
                        + "and the honest clients (a client excluded or not chosen by the rule counts 0).",
                    svg: SVGLineChart(
                        id: "chart-weights", title: "Aggregation weight per client", xLabel: "round", yLabel: "mean weight",
                        series: [
                            .init(name: "honest clients", x: x, y: honestMean, color: "#4e79a7", markers: x.count <= 30),
                            .init(name: "malicious clients", x: x, y: maliciousMean, color: "#d62728", markers: x.count <= 30),
                        ]
                    ).render()))
            }
        }
        return charts
    }

    static func string(_ value: ConfigValue?) -> String? {
        if case .string(let text)? = value { return text }
        return nil
    }
}
