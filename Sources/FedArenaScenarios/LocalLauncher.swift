import FedArenaCore
import FedArenaReports
import FedArenaRuntime
import FedArenaWire
import Foundation
import Logging

/// Runs a scenario on this machine: the calling process is the coordinator, and it starts
/// `clients.processes` client processes of the same executable, connected over ZeroMQ.
///
/// The run folder gets `scenario.yaml` (resolved), `metrics.jsonl`, `summary.json`,
/// `model-final.npy`, `coordinator.log` and `logs/client-N.log`.
public struct LocalLauncher: Sendable {
    /// The validated scenario.
    public var config: ScenarioConfig
    /// The run folder.
    public var outputDirectory: String
    /// The `fedarena` executable to start clients with.
    public var executable: String
    /// Progress output.
    public var progress: ProgressLine
    /// Whether to start the client processes here (`false` for `fedarena coordinator`, whose
    /// clients are started elsewhere: Kubernetes pods, Slurm tasks).
    public var startsClients: Bool
    /// What to do with a run folder that already holds a run.
    public var existing: ExistingRun = .refuse

    /// What a launcher does with a run folder that already holds a run.
    public enum ExistingRun: Sendable {
        /// Stop with an error naming the folder and what it holds.
        case refuse
        /// Replace it (`--overwrite`).
        case overwrite
        /// Continue it after its last checkpoint (`--resume`), to the same final model.
        case resume
    }

    /// Creates a launcher.
    public init(
        config: ScenarioConfig, outputDirectory: String, executable: String, progress: ProgressLine = ProgressLine(),
        startsClients: Bool = true
    ) {
        self.config = config
        self.outputDirectory = outputDirectory
        self.executable = executable
        self.progress = progress
        self.startsClients = startsClients
    }

    /// Runs the scenario to the end.
    /// - Returns: the `summary.json` document.
    /// - Throws: ``RuntimeError`` for a missing dataset, a socket that cannot bind, client
    ///   processes that cannot start or never connect, or outputs that cannot be written.
    public func run() async throws(RuntimeError) -> RunSummary {
        let started = ContinuousClock.now
        let resolvedYAML = ScenarioWriter.yaml(ScenarioSchema.resolvedTree(config))
        let scenarioHash = RunRecorder.sha256(text: resolvedYAML)
        let recorder: RunRecorder
        var checkpoint: Checkpoint?
        var earlierRounds = [RoundMetrics]()
        switch existing {
        case .resume:
            let saved = try Checkpoint.read(from: outputDirectory + "/checkpoint.json")
            guard saved.scenarioSHA256 == scenarioHash else {
                throw RuntimeError(
                    .configuration,
                    "cannot resume \(outputDirectory): its checkpoint was made with another scenario (resume with the run folder's own scenario.yaml)")
            }
            (recorder, earlierRounds) = try RunRecorder.resuming(directory: outputDirectory, after: saved)
            checkpoint = saved
            progress.note("resuming \(outputDirectory) after round \(saved.round) of \(config.training.rounds)")
        case .refuse, .overwrite:
            if existing == .refuse, let held = Self.heldRun(in: outputDirectory) {
                throw RuntimeError(
                    .output,
                    "\(outputDirectory) already holds a run (\(held)); choose another --out, continue it with --resume, or replace it with --overwrite")
            }
            recorder = try RunRecorder(directory: outputDirectory)
            for stale in ["summary.json", "checkpoint.json", "model-final.npy"] where FileManager.default.fileExists(atPath: recorder.path(stale)) {
                do {
                    try FileManager.default.removeItem(atPath: recorder.path(stale))
                } catch {
                    throw RuntimeError(.output, "cannot remove the replaced run's \(recorder.path(stale)): \(error)")
                }
            }
            do {
                try resolvedYAML.write(toFile: recorder.path("scenario.yaml"), atomically: true, encoding: .utf8)
            } catch {
                throw RuntimeError(.output, "cannot write \(recorder.path("scenario.yaml")): \(error)")
            }
        }
        let earlierWall = checkpoint?.wallSeconds ?? 0
        let sink = FileLogHandler.Sink(path: recorder.path("coordinator.log"), append: existing == .resume)
        let logger = Logger(label: "coordinator") { label in
            MultiplexLogHandler([
                FileLogHandler(label: label, sink: sink),
                WarningsToProgress(progress: progress),
            ])
        }

        // Data first: a missing dataset fails before any process starts.
        // The coordinator holds only the test and root sets.
        let federation = try FederationData.load(config: config, role: .coordinator)
        let context = ZMQContext()
        var config = self.config
        let adversarySetup = try AttackSetup.adversary(for: config)
        var adversaryProcess: ClientProcesses?
        var adversaryLink: ZMQClientTransport?
        if adversarySetup.needed {
            let endpoint = config.transport.adversaryEndpoint ?? "ipc:///tmp/fedarena-adversary-\(getpid()).sock"
            config.transport.adversaryEndpoint = endpoint
            if startsClients {
                adversaryProcess = try ClientProcesses.startAdversary(
                    executable: executable, scenario: recorder.path("scenario.yaml"), endpoint: endpoint,
                    logPath: recorder.path("logs/adversary.log"))
            }
            if adversarySetup.omniscient {
                do {
                    adversaryLink = try ZMQClientTransport(context: context, endpoint: endpoint)
                } catch {
                    throw RuntimeError(.transport, "cannot connect to the adversary at \(endpoint): \(error)", cause: error)
                }
                progress.note("attack knowledge is omniscient (simulation only): the coordinator shares benign updates with the adversary")
            }
        }
        defer {
            adversaryLink?.close()
            adversaryProcess?.terminate()
        }
        let transport: ZMQServerTransport
        do {
            transport = try ZMQServerTransport(context: context, endpoint: config.transport.endpoint)
        } catch {
            throw RuntimeError(.transport, "cannot bind \(config.transport.endpoint): \(error)", cause: error)
        }
        defer { transport.close() }
        logger.info("coordinator bound \(transport.boundEndpoint)")

        if !startsClients {
            progress.note("coordinator listening on \(transport.boundEndpoint); waiting for \(config.clients.processes) client processes")
        }
        let children = try ClientProcesses.start(
            count: startsClients ? config.clients.processes : 0, executable: executable, endpoint: transport.boundEndpoint,
            logDirectory: recorder.path("logs"))
        defer { children.terminate() }
        try RunProcesses(
            coordinator: getpid(), endpoint: transport.boundEndpoint, clients: children.processIdentifiers,
            adversary: adversaryProcess?.processIdentifiers.first
        ).write(to: recorder.path("processes.json"))

        let total = config.training.rounds
        var environment = CoordinatorEnvironment(
            config: config, testSet: federation.testSet, rootSet: federation.rootSet, logger: logger
        ) { [progress] (record: RoundMetrics) throws(RuntimeError) in
            try recorder.record(record)
            let elapsed = started.duration(to: .now)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            var detail = String(format: "acc %.4f  loss %.4f", record.accuracy ?? .nan, record.loss ?? .nan)
            if !record.dropped.isEmpty { detail += "  dropped \(record.dropped.count)" }
            if !record.applied { detail += "  (not applied)" }
            progress.report("round", done: record.round, total: total, elapsed: seconds, detail: detail)
        }
        environment.adversaryLink = adversaryLink
        environment.onCheckpoint = { (state: Checkpoint) throws(RuntimeError) in
            var state = state
            state.ledgerHead = recorder.ledgerHead
            state.wallSeconds = earlierWall + started.duration(to: .now).seconds
            state.scenarioSHA256 = scenarioHash
            try state.write(to: recorder.path("checkpoint.json"))
        }
        if config.output.recordUpdates {
            environment.onUpdates = { (round: Int, updates: [ClientUpdate]) throws(RuntimeError) in
                try recorder.recordUpdates(round: round, updates)
            }
        }
        let coordinator = try Coordinator(environment: environment, transport: transport)
        let result = try await coordinator.run(resumingFrom: checkpoint, earlierRounds: earlierRounds)
        let summary = try recorder.finish(result, config: config, wallSeconds: earlierWall + started.duration(to: .now).seconds)
        children.waitForExit(timeoutSeconds: 10)
        return summary
    }
}

extension LocalLauncher {
    /// What marks `folder` as holding a run, or `nil` when it holds none.
    static func heldRun(in folder: String) -> String? {
        let markers = ["summary.json": "a finished run", "checkpoint.json": "an unfinished run with a checkpoint", "metrics.jsonl": "a run's metrics"]
        for name in ["summary.json", "checkpoint.json", "metrics.jsonl"] where FileManager.default.fileExists(atPath: folder + "/" + name) {
            return "\(markers[name]!): \(name)"
        }
        return nil
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) * 1e-18
    }
}

/// Shows coordinator warnings on the progress output (they also go to `coordinator.log`).
struct WarningsToProgress: LogHandler {
    let progress: ProgressLine
    var logLevel: Logger.Level = .warning
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        progress.note("\(event.level): \(event.message)")
    }
}
