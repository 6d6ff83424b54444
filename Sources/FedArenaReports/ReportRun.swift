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

/// A run folder read for its report: `summary.json`, `metrics.jsonl` and `scenario.yaml`
/// (the contract of DESIGN.md's "Outputs of a run").
public struct ReportRun: Sendable {
    /// The run folder.
    public var folder: String
    /// `summary.json`.
    public var summary: ConfigValue
    /// `metrics.jsonl`, one value per round.
    public var rounds: [ConfigValue]
    /// `scenario.yaml`, if present.
    public var scenarioYAML: String?

    /// Reads a run folder.
    /// - Parameter folder: a folder with `summary.json` and `metrics.jsonl`.
    /// - Throws: ``ReportError`` naming the file that is missing or not JSON.
    public init(folder: String) throws(ReportError) {
        self.folder = folder
        summary = try Self.json(at: folder + "/summary.json")
        let metricsPath = folder + "/metrics.jsonl"
        let text: String
        do {
            text = try String(contentsOfFile: metricsPath, encoding: .utf8)
        } catch {
            throw ReportError("cannot read \(metricsPath): \(error.localizedDescription)")
        }
        var rounds = [ConfigValue]()
        for (number, line) in text.split(separator: "\n").enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            do {
                rounds.append(try JSONDecoder().decode(ConfigValue.self, from: Data(line.utf8)))
            } catch {
                throw ReportError("\(metricsPath): line \(number + 1) is not JSON: \(error)")
            }
        }
        self.rounds = rounds
        scenarioYAML = try? String(contentsOfFile: folder + "/scenario.yaml", encoding: .utf8)
    }

    /// Parses a JSON file into a tree.
    static func json(at path: String) throws(ReportError) -> ConfigValue {
        do {
            return try JSONDecoder().decode(ConfigValue.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw ReportError("cannot read \(path): \(error)")
        }
    }

    /// A number of the tree (integers included), or `nil`.
    static func number(_ value: ConfigValue?) -> Double? {
        switch value {
        case .double(let number)?: number.isFinite ? number : nil
        case .int(let number)?: Double(number)
        default: nil
        }
    }

    /// The round numbers.
    public var roundNumbers: [Double] {
        rounds.enumerated().map { index, line in Self.number(line[path: "round"]) ?? Double(index + 1) }
    }

    /// The true malicious clients (`summary.json` `attack.malicious_clients`).
    public var maliciousClients: Set<Int> {
        guard case .array(let clients)? = summary[path: "attack.malicious_clients"] else { return [] }
        return Set(clients.compactMap { if case .int(let id) = $0 { id } else { nil } })
    }

    /// Per round, each client's fused suspicion score (`metrics.jsonl` `detection.scores`).
    public var suspicion: [[Int: Double]] {
        rounds.map { line in
            guard case .object(let scores)? = line[path: "detection.scores"] else { return [:] }
            var result = [Int: Double]()
            for (key, value) in scores {
                if let client = Int(key), let score = Self.number(value) { result[client] = score }
            }
            return result
        }
    }

    /// The ROC of every client-round's suspicion score against the true roles, or `nil`
    /// without detection or without both roles.
    public var roc: ReportROC? {
        let malicious = maliciousClients
        return ReportROC(suspicion.flatMap { round in round.map { (score: $0.value, positive: malicious.contains($0.key)) } })
    }

    /// Per round, the mean aggregation weight of the selected honest and malicious clients (a
    /// selected client without a weight, excluded or not chosen by the rule, counts 0); `nil`
    /// where a round has no weights or no client of the role.
    public var meanWeights: (honest: [Double?], malicious: [Double?]) {
        let malicious = maliciousClients
        var honestMean = [Double?]()
        var maliciousMean = [Double?]()
        for line in rounds {
            guard case .object(let weights)? = line[path: "weights"] else {
                honestMean.append(nil)
                maliciousMean.append(nil)
                continue
            }
            var selected = [Int]()
            if case .array(let ids)? = line[path: "selected"] { selected = ids.compactMap { if case .int(let id) = $0 { id } else { nil } } }
            if selected.isEmpty { selected = weights.keys.compactMap { Int($0) } }
            let weight = { (client: Int) in Self.number(weights[String(client)]) ?? 0 }
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
        let name = Self.string(summary[path: "scenario"]) ?? URL(fileURLWithPath: folder).lastPathComponent
        let accuracy = rounds.map { Self.number($0[path: "accuracy"]) }
        charts.append(ReportChart(
            id: "chart-accuracy", title: "Test accuracy per round",
            caption: "Accuracy of the global model on the test set after each round's aggregate was applied.",
            svg: SVGLineChart(
                id: "chart-accuracy", title: "\(name): test accuracy", xLabel: "round", yLabel: "accuracy",
                series: [.init(name: "test accuracy", x: x, y: accuracy, markers: x.count <= 30)], yDomain: 0...1
            ).render()))
        let loss = rounds.map { Self.number($0[path: "loss"]) }
        let trainLoss = rounds.map { Self.number($0[path: "mean_train_loss"]) }
        charts.append(ReportChart(
            id: "chart-loss", title: "Loss per round",
            caption: "Test loss of the global model, and the mean training loss the accepted clients reported.",
            svg: SVGLineChart(
                id: "chart-loss", title: "\(name): loss", xLabel: "round", yLabel: "cross-entropy",
                series: [
                    .init(name: "test loss", x: x, y: loss, markers: x.count <= 30),
                    .init(name: "mean client training loss", x: x, y: trainLoss, dashed: true),
                ]
            ).render()))
        let asr = rounds.map { Self.number($0[path: "asr"]) }
        if asr.contains(where: { $0 != nil }) {
            charts.append(ReportChart(
                id: "chart-asr", title: "Attack success rate per round",
                caption: "Backdoor: share of non-target test samples, trigger stamped, classified as the target. "
                    + "Targeted flip: share of source-class test samples classified as the target.",
                svg: SVGLineChart(
                    id: "chart-asr", title: "\(name): attack success rate", xLabel: "round", yLabel: "ASR",
                    series: [.init(name: "ASR", x: x, y: asr, color: "#d62728", markers: x.count <= 30)], yDomain: 0...1
                ).render()))
        }
        let perClass = rounds.map { line -> [Double?] in
            guard case .array(let values)? = line[path: "per_class_accuracy"] else { return [] }
            return values.map { Self.number($0) }
        }
        let classes = perClass.map(\.count).max() ?? 0
        if classes > 0 {
            let grid = (0..<classes).map { label in perClass.map { label < $0.count ? $0[label] : nil } }
            charts.append(ReportChart(
                id: "chart-per-class-accuracy", title: "Per-class accuracy over rounds",
                caption: "Test accuracy of each class (rows) after each round (columns); bright is high.",
                svg: SVGHeatmap(
                    id: "chart-per-class-accuracy", title: "\(name): per-class test accuracy", xLabel: "round", yLabel: "class",
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
                    id: "chart-suspicion", title: "\(name): suspicion scores", xLabel: "round", yLabel: "client",
                    rowLabels: clients.map { "client \($0)" }, columnLabels: x.map { String(Int($0)) },
                    values: clients.map { client in scores.map { $0[client] } }, domain: 0...1,
                    markedRows: Set(clients.indices.filter { malicious.contains(clients[$0]) }),
                    markNote: malicious.isEmpty ? "no malicious client in this run" : "malicious client (true role)"
                ).render()))
            if let roc {
                charts.append(ReportChart(
                    id: "chart-roc", title: "Detection ROC",
                    caption: "ROC of the suspicion scores over all client-rounds against the true roles "
                        + "(\(roc.positives) malicious and \(roc.negatives) honest client-rounds); AUC \(String(format: "%.3f", roc.auc)).",
                    svg: SVGLineChart(
                        id: "chart-roc", title: "\(name): detection ROC (AUC \(String(format: "%.3f", roc.auc)))",
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
                        id: "chart-weights", title: "\(name): aggregation weight per client", xLabel: "round", yLabel: "mean weight",
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
