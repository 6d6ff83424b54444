import ArgumentParser
import FedArenaCore
import FedArenaData
import FedArenaDefenses
import FedArenaNumerics
import FedArenaReports
import FedArenaScenarios
import Foundation

/// `fedarena aggregate`: run one aggregation rule offline on updates saved as NPY.
struct AggregateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aggregate",
        abstract: "Run an aggregation rule on an n x d float32 NPY of updates (one per row) and print the weights as JSON.",
        discussion: """
            Rule options are the rule's YAML keys as flags (dashes or underscores):
              fedarena aggregate --rule krum --f 2 --in updates.npy --out merged.npy
              fedarena aggregate --rule trimmed-mean --beta 0.1 --in updates.npy --out merged.npy
              fedarena aggregate --rule fltrust --in updates.npy --reference root-update.npy --out merged.npy
              fedarena aggregate --rule krum --f 2 --pre '[{kind: nnm, f: 2}]' --in updates.npy --out merged.npy
            --reference is FLTrust's root update and centered clipping's previous aggregate.
            Runs recorded with output.record_updates write updates/round-NNNN.npy in this format.
            """)

    @Option(help: "The rule's YAML name (fedavg, median, trimmed-mean, krum, multi-krum, bulyan, geomed, ...).")
    var rule: String

    @Option(name: .customLong("in"), help: "The updates: an n x d float32 NPY, one update per row.")
    var input: String

    @Option(help: "Per-update sample counts (FedAvg weights): a length-n NPY. Default: all 1.")
    var weights: String?

    @Option(help: "A length-d NPY: FLTrust's reference update / centered clipping's previous aggregate.")
    var reference: String?

    @Option(help: "Where to write the merged update (length-d float32 NPY).")
    var out: String?

    @Option(help: "Seed of the rule's random generator (FLAME's noise, bucketing).")
    var seed: UInt64 = 0

    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("Rule options as --key value pairs.", valueName: "rule-options"))
    var ruleOptions: [String] = []

    func run() throws {
        do throws(CommandFailure) {
            try execute()
        } catch {
            printError("fedarena aggregate: \(error.message)")
            throw ExitCode(2)
        }
    }

    private func execute() throws(CommandFailure) {
        let options = try ComponentOptions.parse(ruleOptions)
        let spec = ComponentSpec(kind: rule, options: options, keyPath: rule)
        let aggregator: any Aggregator
        do {
            aggregator = try AggregatorRegistry.standard.make(spec)
        } catch {
            throw CommandFailure("\(error)")
        }
        let (values, shape) = try readNPY(input, what: "--in")
        guard shape.count == 2, shape[0] >= 1, shape[1] >= 1 else {
            throw CommandFailure("--in \(input): expected an n x d array (one update per row), got shape \(shape)")
        }
        let (n, d) = (shape[0], shape[1])
        var counts = [Int](repeating: 1, count: n)
        if let weights {
            let (raw, weightShape) = try readNPY(weights, what: "--weights")
            guard weightShape == [n] else { throw CommandFailure("--weights \(weights): expected shape [\(n)], got \(weightShape)") }
            guard raw.allSatisfy({ $0.isFinite && $0 >= 1 && $0 == $0.rounded() }) else {
                throw CommandFailure("--weights \(weights): sample counts must be whole numbers >= 1")
            }
            counts = raw.map { Int($0) }
        }
        var referenceVector: ParameterVector?
        if let reference {
            let (raw, referenceShape) = try readNPY(reference, what: "--reference")
            guard referenceShape == [d] else { throw CommandFailure("--reference \(reference): expected shape [\(d)], got \(referenceShape)") }
            referenceVector = ParameterVector(raw)
        }
        do {
            try aggregator.validate(inputCount: n)
        } catch {
            throw CommandFailure("\(error.message)")
        }
        let updates = (0..<n).map { row in
            ClientUpdate(client: ClientID(row), round: 1, sampleCount: counts[row], delta: ParameterVector(Array(values[(row * d)..<((row + 1) * d)])))
        }
        let context = RoundContext(
            round: 1, globalModel: ParameterVector(zeros: d), previousAggregate: referenceVector, referenceUpdate: referenceVector,
            expectedUpdates: n)
        var generator = SeededGenerator(seed: seed)
        let start = ContinuousClock.now
        let result: AggregationResult
        do {
            result = try aggregator.aggregate(updates, context: context, using: &generator)
        } catch {
            throw CommandFailure("\(error)")
        }
        let elapsed = start.duration(to: .now)
        if let out {
            do {
                try NPYFile.write(result.aggregate.values, shape: [d], to: out)
            } catch {
                throw CommandFailure("cannot write --out \(out): \(error)")
            }
        }
        let weightsOut = (0..<n).map { JSONText.number(result.weights[ClientID($0)] ?? 0) }
        let report: ConfigValue = .object([
            "rule": .string(aggregator.name),
            "n": .int(n), "d": .int(d),
            "selected": .array(result.selected.map { .int($0.rawValue) }),
            "weights": .array(weightsOut),
            "note": result.note.map(ConfigValue.string) ?? .null,
            "aggregate_norm": JSONText.number(result.aggregate.norm),
            "out": out.map(ConfigValue.string) ?? .null,
            "milliseconds": JSONText.number(Double(elapsed.components.attoseconds) * 1e-15 + Double(elapsed.components.seconds) * 1e3),
        ])
        print(JSONText.render(report, pretty: true))
    }

    private func readNPY(_ path: String, what: String) throws(CommandFailure) -> ([Float], [Int]) {
        let values: [Float]
        let shape: [Int]
        do {
            (values, shape) = try NPYFile.read(path, allowConversion: true)
        } catch {
            throw CommandFailure("\(what) \(path): \(error)")
        }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw CommandFailure("\(what) \(path): value \(bad) is \(values[bad]); updates must be finite")
        }
        return (values, shape)
    }
}

/// A command's user-facing failure message.
struct CommandFailure: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
