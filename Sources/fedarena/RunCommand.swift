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

    @Argument(help: "The scenario YAML file (not with --resume, which uses the run folder's own).")
    var file: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a scenario key (repeatable), e.g. --set training.rounds=5.", valueName: "key.path=value"))
    var overrides: [String] = []

    @Option(help: "The run folder (default: runs/NAME-TIMESTAMP).")
    var out: String?

    @Option(help: ArgumentHelp("Continue the run in RUN_DIR after its last checkpoint, to the same final model.", valueName: "RUN_DIR"))
    var resume: String?

    @Flag(help: "Replace a run that the --out folder already holds (refused otherwise).")
    var overwrite = false

    func validate() throws {
        if let resume {
            if file != nil || !overrides.isEmpty || out != nil {
                throw ValidationError("--resume \(resume) continues that run with its own scenario.yaml: give no FILE, --set or --out")
            }
            if overwrite || baseline { throw ValidationError("--resume cannot be combined with --overwrite or --baseline") }
        } else if file == nil {
            throw ValidationError("give a scenario FILE, or --resume RUN_DIR")
        }
    }

    @Flag(help: "Also run the scenario with the attack off (same seed) into OUT/baseline and report the accuracy drop.")
    var baseline = false

    func run() async throws {
        let scenarioFile = resume.map { $0 + "/scenario.yaml" } ?? file!
        let config = try ScenarioOptions.load(scenarioFile, overrides: overrides)
        let folder = resume ?? out ?? RunFolder.defaultPath(name: config.name)
        if baseline && config.attack == nil {
            printError("fedarena run: --baseline compares against the attack-free run, but \(scenarioFile) has no attack section")
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
                var baselineLauncher = LocalLauncher(config: clean, outputDirectory: folder + "/baseline", executable: currentExecutable())
                baselineLauncher.existing = overwrite ? .overwrite : .refuse
                let summary = try await baselineLauncher.run()
                baselineAccuracy = summary.finalAccuracy
                let (values, _) = try NPYFile.read(folder + "/baseline/model-final.npy")
                baselineRate = try AttackSetup.successRate(of: ParameterVector(values), for: config)
            } catch {
                printError("fedarena run failed (baseline): \(error)")
                throw ExitCode(1)
            }
        }
        var launcher = LocalLauncher(config: config, outputDirectory: folder, executable: currentExecutable())
        launcher.existing = resume != nil ? .resume : (overwrite ? .overwrite : .refuse)
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
    static func attackLine(_ summary: RunSummary) -> String {
        guard let attack = summary.attack else { return "" }
        return "attack \(attack.kind): \(attack.maliciousClients.count) malicious clients, final ASR \(format(attack.finalASR)) "
            + "(baseline \(format(attack.baselineFinalASR))), "
            + "accuracy drop vs baseline \(format(attack.accuracyDrop))\n"
    }

    /// A number with four decimals, or `null`.
    static func format(_ value: Double?) -> String {
        value.map { String(format: "%.4f", $0) } ?? "null"
    }

    /// The closing lines of a run.
    static func describe(_ summary: RunSummary, folder: String) -> String {
        """
        final accuracy \(format(summary.finalAccuracy)), loss \(format(summary.finalLoss)), \
        \(summary.roundsCompleted) rounds, median \(format(summary.secondsPerRoundMedian)) s/round, \
        wall \(format(summary.wallSeconds)) s, dropouts \(summary.dropouts)
        \(attackLine(summary))model_sha256 \(summary.modelSHA256)
        results in \(folder)/ (summary.json, metrics.jsonl, model-final.npy)
        """
    }
}
