import ArgumentParser
import FedArenaCore
import FedArenaData
import FedArenaReports
import FedArenaRuntime
import FedArenaScenarios
import Foundation

/// `fedarena run FILE`: one coordinator (this process) and the scenario's client processes.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a scenario locally: this process coordinates, client processes train over ZeroMQ.")

    @OptionGroup var scenario: ScenarioOptions

    @Option(help: "The run folder (default: runs/NAME-TIMESTAMP).")
    var out: String?

    @Flag(help: "Also run the scenario with the attack off (same seed) into OUT/baseline and report the accuracy drop.")
    var baseline = false

    func run() async throws {
        let config = try scenario.load()
        let folder = out ?? RunFolder.defaultPath(name: config.name)
        if baseline && config.attack == nil {
            printError("fedarena run: --baseline compares against the attack-free run, but \(scenario.file) has no attack section")
            throw ExitCode(2)
        }
        var baselineAccuracy: Double?
        var baselineRate: Double?
        if baseline {
            var clean = config
            clean.attack = nil
            clean.name = config.name + "-baseline"
            printError("fedarena: baseline run (attack off, same seed) into \(folder)/baseline")
            do {
                let summary = try await LocalLauncher(config: clean, outputDirectory: folder + "/baseline", executable: currentExecutable()).run()
                if case .double(let accuracy)? = summary[path: "final_accuracy"] { baselineAccuracy = accuracy }
                let (values, _) = try NPYFile.read(folder + "/baseline/model-final.npy")
                baselineRate = try AttackSetup.successRate(of: ParameterVector(values), for: config)
            } catch {
                printError("fedarena run failed (baseline): \(error)")
                throw ExitCode(1)
            }
        }
        let launcher = LocalLauncher(config: config, outputDirectory: folder, executable: currentExecutable())
        printError("fedarena: \(config.name): \(config.clients.count) clients in \(config.clients.processes) processes, \(config.training.rounds) rounds, \(config.model), aggregator \(config.defense.aggregator.kind)\(config.attack.map { ", attack \($0.kind)" } ?? ""); output in \(folder)")
        do {
            var summary = try await launcher.run()
            if let baselineAccuracy {
                summary = try RunRecorder.addBaseline(baselineAccuracy, successRate: baselineRate, to: summary, in: folder)
            }
            print(RunFolder.describe(summary, folder: folder))
        } catch {
            printError("fedarena run failed: \(error)")
            throw ExitCode(1)
        }
    }
}

/// Naming and describing run folders.
enum RunFolder {
    /// `runs/NAME-YYYYmmdd-HHMMSS`.
    static func defaultPath(name: String) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        formatter.locale = Locale(identifier: "en_US_POSIX")
        let safe = name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" }
        return "runs/\(String(safe))-\(formatter.string(from: Date()))"
    }

    /// The attack line of a run's closing lines, or nothing without an attack.
    static func attackLine(_ summary: ConfigValue) -> String {
        guard case .object(let attack)? = summary[path: "attack"] else { return "" }
        func text(_ value: ConfigValue?) -> String {
            switch value {
            case .double(let number)?: String(format: "%.4f", number)
            case .int(let number)?: String(number)
            case .string(let string)?: string
            default: "null"
            }
        }
        let count: Int = if case .array(let clients)? = attack["malicious_clients"] { clients.count } else { 0 }
        return "attack \(text(attack["kind"])): \(count) malicious clients, final ASR \(text(attack["final_asr"])) "
            + "(baseline \(text(attack["baseline_final_asr"]))), "
            + "accuracy drop vs baseline \(text(attack["accuracy_drop"]))\n"
    }

    /// The closing lines of a run.
    static func describe(_ summary: ConfigValue, folder: String) -> String {
        func number(_ key: String) -> String {
            switch summary[path: key] {
            case .double(let value)?: String(format: "%.4f", value)
            case .int(let value)?: String(value)
            default: "null"
            }
        }
        return """
            final accuracy \(number("final_accuracy")), loss \(number("final_loss")), \
            \(number("rounds_completed")) rounds, median \(number("seconds_per_round_median")) s/round, \
            wall \(number("wall_seconds")) s, dropouts \(number("dropouts"))
            \(attackLine(summary))model_sha256 \(summary[path: "model_sha256"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? "null")
            results in \(folder)/ (summary.json, metrics.jsonl, model-final.npy)
            """
    }
}
