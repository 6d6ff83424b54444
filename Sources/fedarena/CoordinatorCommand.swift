import ArgumentParser
import FedArenaCore
import FedArenaReports
import FedArenaRuntime
import FedArenaScenarios
import Foundation
import Logging

/// `fedarena coordinator FILE --bind ENDPOINT`: a coordinator whose clients start elsewhere.
struct CoordinatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Run only the coordinator; clients connect with `fedarena client` (Kubernetes, Slurm, other hosts).",
        discussion: """
            The coordinator binds its endpoint and waits up to transport.connect_timeout_s for the \
            clients.processes client processes (indexes 0..<clients.processes); if too few arrive for the \
            quorum, it stops with exit status 1 and names the missing process indexes.

            CURVE is on by default (transport.curve): make keys with `fedarena keys generate DIR --clients N` and \
            pass --keys DIR; only the client keys of DIR/allow-list.json are admitted, each bound to its process \
            index. --no-curve runs in plaintext (trusted networks only).

            Every option can also be set by the FEDARENA_* variable its help names (a container's or \
            a pod's environment); an option on the command line wins over its variable. FEDARENA_SET \
            holds overrides separated by newlines or ';', applied before the --set options.

            \(ExitStatus.documentation())
            """)

    @Argument(help: "The scenario YAML file (env FEDARENA_SCENARIO; required).")
    var file: String?

    @Option(
        name: .customLong("set"),
        help: ArgumentHelp(
            "Override a scenario key (repeatable), e.g. --set training.rounds=5 (env FEDARENA_SET, applied first).",
            valueName: "key.path=value"))
    var overrides: [String] = []

    @Option(help: "The endpoint to bind (overrides transport.endpoint), e.g. tcp://0.0.0.0:5555 (env FEDARENA_BIND).")
    var bind: String?

    @Option(help: "The run folder (env FEDARENA_OUT; default: runs/NAME-TIMESTAMP).")
    var out: String?

    @Flag(
        inversion: .prefixedNo,
        help: "Continue the run the --out folder holds after its last checkpoint; clients reconnect on their own (env FEDARENA_RESUME; default off).")
    var resume: Bool?

    @Flag(
        inversion: .prefixedNo,
        help: """
            Resume when --out holds a checkpoint, exit 0 when it holds this scenario's finished run, start it \
            otherwise: for pods and requeued jobs that may start again (env FEDARENA_AUTO_RESUME; default off).
            """)
    var autoResume: Bool?

    @Flag(inversion: .prefixedNo, help: "Replace a run that the --out folder already holds (env FEDARENA_OVERWRITE; default off: refused).")
    var overwrite: Bool?

    @Flag(inversion: .prefixedNo, help: "Encrypt and authenticate with CurveZMQ (overrides transport.curve; env FEDARENA_CURVE; default on).")
    var curve: Bool?

    @Option(help: "A key folder from `fedarena keys generate` (overrides transport.keys; env FEDARENA_KEYS).")
    var keys: String?

    @OptionGroup var logging: LogOptions

    /// What to do with the run folder.
    enum Mode: Equatable {
        /// Start a new run; a folder holding one is refused.
        case start
        /// Replace the run the folder holds.
        case overwrite
        /// Continue after the folder's checkpoint.
        case resume
        /// Decide from the folder's contents (``CoordinatorCommand/existingRun(in:resolvedScenario:)``).
        case automatic
    }

    /// The settings of one coordinator, from the options and the environment.
    struct Settings: Equatable {
        var file: String
        var overrides: [String]
        var bind: String?
        var out: String?
        var mode: Mode
        var curve: Bool?
        var keys: String?
    }

    /// The settings: each option, else its `FEDARENA_*` variable, else its default.
    /// - Parameter environment: Where the variables are read.
    /// - Returns: The settings to run with.
    /// - Throws: ``OptionError`` naming the option and its variable when a value is missing,
    ///   malformed, or excludes another.
    func resolve(_ environment: OptionEnvironment) throws(OptionError) -> Settings {
        guard let scenario = environment.string(file, "FEDARENA_SCENARIO") else {
            throw OptionError(.missingValue, "give the scenario FILE (or FEDARENA_SCENARIO), e.g. /scenario/scenario.yaml")
        }
        let resume = try environment.bool(resume, "FEDARENA_RESUME") ?? false
        let automatic = try environment.bool(autoResume, "FEDARENA_AUTO_RESUME") ?? false
        let overwrite = try environment.bool(overwrite, "FEDARENA_OVERWRITE") ?? false
        let out = environment.string(out, "FEDARENA_OUT")
        let chosen = [(resume, "--resume"), (automatic, "--auto-resume"), (overwrite, "--overwrite")].filter(\.0).map(\.1)
        if chosen.count > 1 {
            throw OptionError(.conflict, "\(chosen.joined(separator: " and ")) exclude each other (check the flags and FEDARENA_RESUME, FEDARENA_AUTO_RESUME, FEDARENA_OVERWRITE)")
        }
        if (resume || automatic) && out == nil {
            throw OptionError(.missingValue, "\(chosen[0]) needs --out RUN_DIR (or FEDARENA_OUT), the folder of the run to continue")
        }
        let mode: Mode = resume ? .resume : automatic ? .automatic : overwrite ? .overwrite : .start
        return Settings(
            file: scenario, overrides: environment.overrides(overrides, "FEDARENA_SET"), bind: environment.string(bind, "FEDARENA_BIND"),
            out: out, mode: mode, curve: try environment.bool(curve, "FEDARENA_CURVE"), keys: environment.string(keys, "FEDARENA_KEYS"))
    }

    /// What `--auto-resume` does with a run folder.
    enum ExistingRun: Equatable {
        /// Nothing is there yet: start.
        case none
        /// A checkpoint is there: resume.
        case checkpoint
        /// This scenario's run finished there: nothing to do.
        case finished
        /// Something else is there (another scenario's finished run, metrics without a checkpoint).
        case other
    }

    /// What the run folder holds, for `--auto-resume`.
    /// - Parameters:
    ///   - folder: The run folder.
    ///   - resolvedScenario: The resolved YAML of the scenario about to run (what the folder's
    ///     `scenario.yaml` holds when it is the same run).
    /// - Returns: What to do.
    static func existingRun(in folder: String, resolvedScenario: String) -> ExistingRun {
        let files = FileManager.default
        if files.fileExists(atPath: folder + "/summary.json") {
            let saved = files.contents(atPath: folder + "/scenario.yaml").map { String(decoding: $0, as: UTF8.self) }
            return saved == resolvedScenario ? .finished : .other
        }
        if files.fileExists(atPath: folder + "/checkpoint.json") { return .checkpoint }
        if files.fileExists(atPath: folder + "/metrics.jsonl") { return .other }
        return .none
    }

    func run() async throws {
        let environment = OptionEnvironment()
        let log = try logging.bootstrap(environment, command: "coordinator")
        let logger = Logger(label: "coordinator")
        let settings: Settings
        do throws(OptionError) {
            settings = try resolve(environment)
        } catch {
            logger.error("\(error.message)")
            throw ExitCode(ExitStatus.invalid)
        }
        var config = try ScenarioOptions.load(settings.file, overrides: settings.overrides) { logger.error("\($0)") }
        if let bind = settings.bind { config.transport.endpoint = bind }
        if let curve = settings.curve { config.transport.curve = curve }
        if let keys = settings.keys { config.transport.keysDirectory = keys }
        let folder = settings.out ?? RunFolder.defaultPath(name: config.name)
        let existing: LocalLauncher.ExistingRun
        switch settings.mode {
        case .start: existing = .refuse
        case .overwrite: existing = .overwrite
        case .resume: existing = .resume
        case .automatic:
            let resolved = ScenarioWriter.yaml(ScenarioSchema.resolvedTree(config))
            switch Self.existingRun(in: folder, resolvedScenario: resolved) {
            case .none, .other: existing = .refuse
            case .checkpoint: existing = .resume
            case .finished:
                logger.notice("\(folder) already holds this scenario's finished run (summary.json): nothing to do", metadata: ["out": "\(folder)"])
                return
            }
        }
        logger.notice(
            "\(config.name): \(config.clients.processes) client processes expected within \(config.transport.connectTimeoutSeconds) s; output in \(folder)",
            metadata: ["scenario": "\(config.name)", "out": "\(folder)", "processes": "\(config.clients.processes)"])
        // Exits 1 on failure and 128 + the signal when interrupted, after logging why.
        let summary = try await RunFolder.runInterruptibly(
            config: config, folder: folder, existing: existing, startsClients: false, command: "coordinator",
            progress: log.progress(to: logger), report: { logger.error("\($0)", metadata: ["out": "\(folder)"]) })
        logger.notice(
            "finished \(summary.roundsCompleted) rounds, model_sha256 \(summary.modelSHA256)",
            metadata: ["model_sha256": "\(summary.modelSHA256)", "rounds_completed": "\(summary.roundsCompleted)", "out": "\(folder)"])
        print(RunFolder.describe(summary, folder: folder))
    }
}
