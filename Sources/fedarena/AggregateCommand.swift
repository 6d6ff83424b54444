import ArgumentParser
import FedArenaCore
import FedArenaData
import FedArenaDefenses
import FedArenaNumerics
import FedArenaReports
import FedArenaRuntime
import FedArenaScenarios
import Foundation
import Logging

/// `fedarena aggregate`: run one aggregation rule, or a scenario's whole round pipeline
/// (validation, detection, the decision, pre-aggregation and the rule through the degraded-round
/// policy), offline on updates saved as NPY.
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
        lines.append("")
        lines.append("With --scenario FILE instead of --rule, the rows go through the scenario's round pipeline, the same")
        lines.append("code a coordinator runs: content validation, the quorum, the detectors, the decision,")
        lines.append("pre-aggregation and the rule through the degraded-round policy. Rows are clients 0..<n (no")
        lines.append("sketches or revealed samples: detectors that need them score those clients as sending none);")
        lines.append("--global is the model they started from (default: the scenario's initial model); the root set")
        lines.append("is the scenario's. The JSON says what each stage did and which rule actually ran.")
        lines.append("  fedarena aggregate --scenario scenarios/defenses/fltrust.yaml --in updates.npy --round 3")
        return lines.joined(separator: "\n")
    }

    @Option(help: ArgumentHelp("The rule's YAML name: \(AggregatorRegistry.standard.kinds.joined(separator: ", ")).", valueName: "kind"))
    var rule: String?

    @Option(help: "A scenario file: run its whole round pipeline (detection, decision, rule) instead of one --rule.")
    var scenario: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a key of the --scenario file (repeatable).", valueName: "key.path=value"))
    var overrides: [String] = []

    @Option(help: "With --scenario: a length-d NPY, the global model the updates started from (default: the scenario's initial model).")
    var global: String?

    @Option(help: "With --scenario: the round number (detectors' calibration and seeded draws depend on it).")
    var round: Int = 1

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
        switch (rule, scenario) {
        case (nil, nil): throw CommandFailure("give --rule KIND (one rule) or --scenario FILE (the scenario's round pipeline)")
        case (.some, .some): throw CommandFailure("give --rule or --scenario, not both")
        case (nil, .some(let file)): try executePipeline(file)
        case (.some(let rule), nil): try executeRule(rule)
        }
    }

    private func executeRule(_ rule: String) throws(CommandFailure) {
        if !overrides.isEmpty || global != nil { throw CommandFailure("--set and --global go with --scenario") }
        let options = try ComponentOptions.parse(ruleOptions)
        let spec = ComponentSpec(kind: rule, options: options, keyPath: rule)
        let aggregator: any Aggregator
        do {
            aggregator = try AggregatorRegistry.standard.make(spec)
        } catch {
            throw CommandFailure("\(error)")
        }
        let (values, n, d) = try readUpdates()
        let counts = try sampleCounts(n: n)
        var referenceVector: ParameterVector?
        if let reference {
            referenceVector = ParameterVector(try readVector(reference, what: "--reference", length: d))
        }
        var trustWeights: [Double]?
        if let trust {
            let raw = try readVector(trust, what: "--trust", length: n)
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

    /// Runs the rows through the round pipeline of the scenario in `file`.
    private func executePipeline(_ file: String) throws(CommandFailure) {
        if !ruleOptions.isEmpty {
            throw CommandFailure("rule options (\(ruleOptions.joined(separator: " "))) go with --rule; a --scenario sets its rule in defense.aggregator")
        }
        if trust != nil { throw CommandFailure("--trust goes with --rule: with --scenario, the detectors decide the trust weights") }
        if reference != nil { throw CommandFailure("--reference goes with --rule: with --scenario, the root update comes from the scenario's root set") }
        guard round >= 1 else { throw CommandFailure("--round must be at least 1, got \(round)") }
        let config: ScenarioConfig
        do {
            config = try ScenarioOptions.load(file, overrides: overrides) { message in printError("fedarena aggregate: \(message)") }
        } catch {
            throw CommandFailure("the --scenario \(file) is not valid (see above)")
        }
        let (values, n, d) = try readUpdates()
        let counts = try sampleCounts(n: n)
        let pipeline: RoundPipeline
        do {
            let data = try FederationData.load(config: config, role: .coordinator)
            pipeline = try RoundPipeline(config: config, rootSet: data.rootSet)
        } catch {
            throw CommandFailure("\(file): \(error.message)")
        }
        guard d == pipeline.parameterCount else {
            throw CommandFailure("--in \(input): rows have \(d) values, the scenario's model has \(pipeline.parameterCount) parameters")
        }
        var model = pipeline.initialModel
        if let global {
            model = ParameterVector(try readVector(global, what: "--global", length: d))
        }
        let updates = (0..<n).map { row in
            ClientUpdate(
                client: ClientID(row), round: round, sampleCount: counts[row], delta: ParameterVector(Array(values[(row * d)..<((row + 1) * d)])))
        }
        var state = PipelineState()
        let start = ContinuousClock.now
        let outcome = pipeline.run(
            RoundInput(round: round, selected: (0..<n).map(ClientID.init), updates: updates, globalModel: model), state: &state,
            // What the pipeline would log is in the JSON (reasons, flags, the rule used), which
            // stays the only output so that it parses.
            logger: Logger(label: "aggregate", factory: { _ in SwiftLogNoOpLogHandler() }))
        let elapsed = start.duration(to: .now)
        if let out, let step = outcome.step {
            do {
                try NPYFile.write(step.values, shape: [d], to: out)
            } catch {
                throw CommandFailure("cannot write --out \(out): \(error)")
            }
        }
        print(JSONText.render(Self.report(outcome, file: file, round: round, n: n, d: d, rule: pipeline.ruleName, out: out, elapsed: elapsed), pretty: true))
    }

    /// The JSON `fedarena aggregate --scenario` prints: what each stage of the round did.
    static func report(
        _ outcome: RoundOutcome, file: String, round: Int, n: Int, d: Int, rule: String, out: String?, elapsed: Duration
    ) -> ConfigValue {
        func ids(_ clients: [ClientID]) -> ConfigValue { .array(clients.map { .int($0.rawValue) }) }
        var detection = ConfigValue.null
        if let report = outcome.detection {
            let decisions: [ConfigValue] = report.decisions.keys.sorted().compactMap { client in
                guard let decision = report.decisions[client] else { return nil }
                return .object([
                    "client": .int(client.rawValue), "score": JSONText.number(decision.score), "flagged": .bool(decision.flagged),
                    "weight": JSONText.number(decision.weight), "reasons": .array(decision.reasons.map(ConfigValue.string)),
                ])
            }
            detection = .object([
                "threshold": JSONText.number(report.threshold), "calibrating": .bool(report.calibrating), "decisions": .array(decisions),
            ])
        }
        return .object([
            "scenario": .string(file), "round": .int(round), "n": .int(n), "d": .int(d),
            "rejected": .array(outcome.rejections.map { .object(["client": .int($0.client.rawValue), "reason": .string($0.reason)]) }),
            "validated": ids(outcome.validated),
            "detection": detection,
            "detection_failure": outcome.detectionFailure.map(ConfigValue.string) ?? .null,
            "root_update_failure": outcome.rootUpdateFailure.map(ConfigValue.string) ?? .null,
            "screened": ids(outcome.screened),
            "rule": .string(rule),
            "rule_used": .string(outcome.ruleUsed),
            "weights": .array((0..<n).map { JSONText.number(outcome.weights[ClientID($0)] ?? 0) }),
            "note": outcome.note.map(ConfigValue.string) ?? .null,
            "degraded": outcome.degradedReason.map(ConfigValue.string) ?? .null,
            "applied": .bool(outcome.step != nil),
            "aggregate_norm": outcome.step.map { JSONText.number($0.norm) } ?? .null,
            "out": (outcome.step == nil ? nil : out).map(ConfigValue.string) ?? .null,
            "milliseconds": JSONText.number(Double(elapsed.components.attoseconds) * 1e-15 + Double(elapsed.components.seconds) * 1e3),
        ])
    }

    /// The `--weights` sample counts, or all 1.
    private func sampleCounts(n: Int) throws(CommandFailure) -> [Int] {
        guard let weights else { return [Int](repeating: 1, count: n) }
        let raw = try readVector(weights, what: "--weights", length: n)
        guard raw.allSatisfy({ $0.isFinite && $0 >= 1 && $0 == $0.rounded() }) else {
            throw CommandFailure("--weights \(weights): sample counts must be whole numbers >= 1")
        }
        return raw.map { Int($0) }
    }

    /// The `--in` updates: an n x d block, n, d.
    private func readUpdates() throws(CommandFailure) -> (values: [Float], n: Int, d: Int) {
        let (values, shape) = try readNPY(input, what: "--in")
        guard shape.count == 2, shape[0] >= 1, shape[1] >= 1 else {
            throw CommandFailure("--in \(input): expected an n x d array (one update per row), got shape \(shape)")
        }
        return (values, shape[0], shape[1])
    }

    /// A length-`length` NPY vector given as option `what`.
    private func readVector(_ path: String, what: String, length: Int) throws(CommandFailure) -> [Float] {
        let (values, shape) = try readNPY(path, what: what)
        guard shape == [length] else { throw CommandFailure("\(what) \(path): expected shape [\(length)], got \(shape)") }
        return values
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
