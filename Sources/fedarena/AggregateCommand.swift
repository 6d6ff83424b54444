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
        discussion: helpText(AggregatorRegistry.standard))

    /// The discussion text, derived from the registry (every rule, its example options, its
    /// bound and what a trust weight does), so that a new rule appears without editing it.
    static func helpText(_ registry: AggregatorRegistry) -> String {
        let example = AggregatorTraits.ExampleRound(n: 10, f: 2)
        func flags(_ options: [String: ConfigValue]) -> String {
            options.keys.sorted().map { key -> String in
                switch options[key]! {
                case .array(let items): return "--\(key) '\(ConfigValue.array(items))'"
                case let value: return "--\(key) \(value)"
                }
            }.joined(separator: " ")
        }
        var lines = ["Rule options are the rule's YAML keys as flags (dashes or underscores). Rules (example for n = 10, f = 2):"]
        for entry in registry.rules.sortedEntries {
            let options = flags(entry.traits.example(example))
            lines.append("  \(entry.kind): \(entry.summary)")
            var facts = [String]()
            if let bound = entry.traits.bound { facts.append("needs \(bound)") }
            facts.append("trust weight: \(entry.traits.weightMeaning)")
            lines.append("      \(facts.joined(separator: "; "))")
            lines.append("      fedarena aggregate --rule \(entry.kind)\(options.isEmpty ? "" : " " + options) --in updates.npy --out merged.npy")
        }
        lines.append("Pre-aggregation stages (--pre '[{kind: ..., ...}]'):")
        for stage in registry.stages.sortedEntries {
            lines.append("  \(stage.kind): \(stage.summary)\(stage.traits.bound.map { " (needs \($0))" } ?? "")")
        }
        lines.append("--reference is FLTrust's root update and centered clipping's previous aggregate; --trust gives")
        lines.append("each row's trust weight in [0, 1] (0 excludes). Runs recorded with output.record_updates write")
        lines.append("updates/round-NNNN.npy in the --in format.")
        return lines.joined(separator: "\n")
    }

    @Option(help: ArgumentHelp("The rule's YAML name: \(AggregatorRegistry.standard.kinds.joined(separator: ", ")).", valueName: "kind"))
    var rule: String

    @Option(name: .customLong("in"), help: "The updates: an n x d float32 NPY, one update per row.")
    var input: String

    @Option(help: "Per-update sample counts (FedAvg weights): a length-n NPY. Default: all 1.")
    var weights: String?

    @Option(help: "A length-d NPY: FLTrust's reference update / centered clipping's previous aggregate.")
    var reference: String?

    @Option(help: "Per-update trust weights in [0, 1]: a length-n NPY (0 excludes a row). Default: all 1.")
    var trust: String?

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
        var trustWeights: [Double]?
        if let trust {
            let (raw, trustShape) = try readNPY(trust, what: "--trust")
            guard trustShape == [n] else { throw CommandFailure("--trust \(trust): expected shape [\(n)], got \(trustShape)") }
            guard raw.allSatisfy({ $0 >= 0 && $0 <= 1 }) else { throw CommandFailure("--trust \(trust): weights must be in [0, 1]") }
            trustWeights = raw.map(Double.init)
        }
        // The NPY block is the round's matrix as it is: no per-row copies.
        let updates: UpdateMatrix
        do {
            updates = try UpdateMatrix(
                values: values, dimension: d, clients: (0..<n).map(ClientID.init), sampleCounts: counts, weights: trustWeights, round: 1)
            try aggregator.validate(inputCount: updates.activeCount)
        } catch {
            throw CommandFailure("\(error.message)")
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
