import ArgumentParser
import FedArenaCore
import FedArenaData
import FedArenaReports
import FedArenaRuntime
import FedArenaScenarios
import Foundation
import Synchronization

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
            let summary = try await RunFolder.runInterruptibly(
                config: clean, folder: folder + "/baseline", existing: overwrite ? .overwrite : .refuse, startsClients: true, command: "run")
            do {
                baselineAccuracy = summary.finalAccuracy
                let (values, _) = try NPYFile.read(folder + "/baseline/model-final.npy")
                baselineRate = try AttackSetup.successRate(of: ParameterVector(values), for: config)
            } catch {
                printError("fedarena run failed (baseline): \(error)")
                throw ExitCode(1)
            }
        }
        printError("fedarena: \(config.name): \(config.clients.count) clients in \(config.clients.processes) processes, \(config.training.rounds) rounds, \(config.model), aggregator \(config.defense.aggregator.kind)\(config.attack.map { ", attack \($0.kind)" } ?? ""); output in \(folder)")
        var summary = try await RunFolder.runInterruptibly(
            config: config, folder: folder, existing: resume != nil ? .resume : (overwrite ? .overwrite : .refuse), startsClients: true,
            command: "run")
        do {
            if let baselineAccuracy {
                summary = try RunRecorder.addBaseline(baselineAccuracy, successRate: baselineRate, to: summary, in: folder)
            }
        } catch {
            printError("fedarena run failed: \(error)")
            throw ExitCode(1)
        }
        print(RunFolder.describe(summary, folder: folder))
    }
}

/// Naming and describing run folders.
enum RunFolder {
    /// Runs a launcher in a task that SIGINT/SIGTERM cancel: the launcher stops the children and
    /// writes `interrupted.json`, and the command exits with 130 (SIGINT) or 143 (SIGTERM).
    /// - Parameters:
    ///   - config: The scenario.
    ///   - folder: The run folder.
    ///   - existing: What to do with a folder that holds a run.
    ///   - startsClients: Whether to start the client processes here.
    ///   - command: `run` or `coordinator`, for messages and the CURVE default (off for `run`).
    ///   - progress: The launcher's progress output (the coordinator's JSON log hands its own).
    ///   - report: Where the closing error goes (standard error by default, or a logger).
    /// - Returns: The summary.
    /// - Throws: `ExitCode` 1 on failure; exits with 128 + the signal when interrupted.
    static func runInterruptibly(
        config: ScenarioConfig, folder: String, existing: LocalLauncher.ExistingRun, startsClients: Bool, command: String,
        progress: ProgressLine = ProgressLine(), report: (String) -> Void = printError
    ) async throws -> RunSummary {
        let task = Mutex<Task<Result<RunSummary, RuntimeError>, Never>?>(nil)
        let interruption = RunInterruption { _ in task.withLock { $0?.cancel() } }
        var launcher = LocalLauncher(
            config: config, outputDirectory: folder, executable: currentExecutable(), progress: progress, startsClients: startsClients,
            curveByDefault: command != "run", interruption: interruption)
        launcher.existing = existing
        let running = Task { [launcher] () -> Result<RunSummary, RuntimeError> in
            do throws(RuntimeError) {
                return .success(try await launcher.run())
            } catch {
                return .failure(error)
            }
        }
        task.withLock { $0 = running }
        // A signal that came before the task was stored.
        if interruption.receivedSignal != nil { running.cancel() }
        switch await running.value {
        case .success(let summary):
            return summary
        case .failure(let error) where error.code == .interrupted:
            report("fedarena \(command) stopped: \(error)")
            // The children are reaped and every record is written (unbuffered). Skip the
            // atexit handlers: libraries join their threads there, and a coordinator task
            // still inside a BLAS call can hold them up.
            fflush(nil)
            _exit(interruption.exitStatus ?? 1)
        case .failure(let error):
            report("fedarena \(command) failed: \(error)")
            throw ExitCode(1)
        }
    }

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
