import FedArenaCore
import FedArenaReports
import FedArenaRuntime
import FedArenaWire
import Foundation
import Logging
import Synchronization

/// Runs a scenario on this machine: the calling process is the coordinator, and it starts
/// `clients.processes` client processes of the same executable, connected over ZeroMQ.
///
/// The run folder gets `scenario.yaml` (resolved), `metrics.jsonl`, `summary.json`,
/// `model-final.npy`, `coordinator.log`, `logs/client-N.log`, `processes.json` (the process
/// identifiers of the coordinator and of every child it started), `keys/` when CURVE is on
/// without a key folder of the user's, and `interrupted.json` when a signal stopped the run.
///
/// ## Security
/// `transport.curve` decides (``curveByDefault`` when the scenario does not say): with CURVE
/// every socket of the run (coordinator, adversary, the coordinator's link to the adversary)
/// is encrypted and authenticated with the keys of `transport.keys`, or with keys generated
/// into `RUN/keys` (mode 0700, secret keys 0600) for a local run.
///
/// ## Interruption
/// When the calling task is cancelled (``RunInterruption`` cancels it on SIGINT/SIGTERM), the
/// launcher stops waiting for the coordinator, sends SHUTDOWN to every connected client,
/// stops the children (SIGTERM, then SIGKILL after two seconds) and reaps them, writes
/// `interrupted.json`, and throws ``RuntimeError`` `.interrupted`. Rounds recorded (and
/// checkpointed) before the signal stay; none is recorded after it, so `--resume` continues
/// from the last checkpoint.
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
    /// Whether CURVE is on when the scenario leaves `transport.curve` unset: `false` for a
    /// local `fedarena run`, `true` for `fedarena coordinator`.
    public var curveByDefault: Bool
    /// The signal handler of the command, whose signal `interrupted.json` names.
    public var interruption: RunInterruption?

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
        startsClients: Bool = true, curveByDefault: Bool = false, interruption: RunInterruption? = nil
    ) {
        self.config = config
        self.outputDirectory = outputDirectory
        self.executable = executable
        self.progress = progress
        self.startsClients = startsClients
        self.curveByDefault = curveByDefault
        self.interruption = interruption
    }

    /// Runs the scenario to the end.
    /// - Returns: the `summary.json` document.
    /// - Throws: ``RuntimeError`` for a missing dataset, missing or invalid keys, a socket that
    ///   cannot bind, client processes that cannot start or never connect, outputs that cannot
    ///   be written, and `.interrupted` when the calling task is cancelled.
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
            if config.transport.errorFeedback {
                throw RuntimeError(
                    .configuration,
                    "cannot resume \(outputDirectory): with transport.error_feedback the client processes hold residuals that the checkpoint "
                        + "does not, so a resumed run would not reach the same model; run the scenario again")
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
        let stop = RunStop()
        let logger = Logger(label: "coordinator") { label in
            MultiplexLogHandler([
                FileLogHandler(label: label, sink: sink),
                WarningsToProgress(progress: progress, stop: stop),
            ])
        }

        // Data first: a missing dataset fails before any process starts.
        // The coordinator holds only the test and root sets.
        let federation = try FederationData.load(config: config, role: .coordinator)
        let context = ZMQContext()
        var config = self.config
        let security = try RunSecurity(config: config, curveByDefault: curveByDefault, runFolder: recorder.directory, startsClients: startsClients)
        logger.info("transport: \(security.summary)")
        if security.keys == nil {
            progress.note("transport: CURVE off (\(config.transport.curve == nil ? "the default of a local run" : "transport.curve is false")); set transport.curve=true to encrypt and authenticate")
        }
        // What the clients receive in WELCOME: the effective setting and the adversary's key.
        config.transport.curve = security.keys != nil
        config.transport.adversaryPublicKey = security.keys?.allowList.adversary?.z85
        let limits = try TransportLimits.inbound(
            for: config, featureCount: federation.testSet.featureCount, classCount: federation.testSet.classCount)
        logger.info("transport: largest inbound message \(limits.maxMessageBytes) bytes (ZMQ_MAXMSGSIZE)")

        let adversarySetup = try AttackSetup.adversary(for: config)
        var adversaryProcess = ClientProcesses.none
        var adversaryLink: ZMQClientTransport?
        if adversarySetup.needed {
            let endpoint = config.transport.adversaryEndpoint ?? "ipc:///tmp/fedarena-adversary-\(getpid()).sock"
            config.transport.adversaryEndpoint = endpoint
            if startsClients {
                adversaryProcess = try await ClientProcesses.start(
                    [ClientProcesses.Launch(
                        name: "the adversary process",
                        arguments: ["adversary", recorder.path("scenario.yaml"), "--bind", endpoint, "--parent-pid", String(getpid())]
                            + security.childArguments,
                        logPath: recorder.path("logs/adversary.log"))],
                    executable: executable)
            }
            if adversarySetup.omniscient {
                do {
                    adversaryLink = try ZMQClientTransport(
                        context: context, endpoint: endpoint, options: ZMQTransportOptions(security: try security.adversaryLinkSecurity()))
                } catch {
                    await adversaryProcess.terminate()
                    throw RuntimeError(.transport, "cannot connect to the adversary at \(endpoint): \(error)", cause: error)
                }
                progress.note("attack knowledge is omniscient (simulation only): the coordinator shares benign updates with the adversary")
            }
        }
        let transport: ZMQServerTransport
        do {
            transport = try ZMQServerTransport(
                context: context, endpoint: config.transport.endpoint,
                options: ZMQTransportOptions(maxMessageBytes: limits.maxMessageBytes, security: security.serverSecurity))
        } catch {
            adversaryLink?.close()
            await adversaryProcess.terminate()
            throw RuntimeError(.transport, "cannot bind \(config.transport.endpoint): \(error)", cause: error)
        }
        logger.info("coordinator bound \(transport.boundEndpoint)")

        if !startsClients {
            progress.note("coordinator listening on \(transport.boundEndpoint); waiting for \(config.clients.processes) client processes")
        }
        let children: ClientProcesses
        do throws(RuntimeError) {
            children = try await ClientProcesses.start(
                (0..<(startsClients ? config.clients.processes : 0)).map { index in
                    ClientProcesses.Launch(
                        name: "client process \(index)",
                        arguments: [
                            "client", "--connect", transport.boundEndpoint, "--process-index", String(index),
                            "--parent-pid", String(getpid()),
                        ] + security.childArguments,
                        logPath: recorder.path("logs/client-\(index).log"))
                },
                executable: executable)
        } catch {
            transport.close()
            adversaryLink?.close()
            await adversaryProcess.terminate()
            throw error
        }
        let everyChild = [children, adversaryProcess]
        do throws(RuntimeError) {
            try RunProcesses(
                coordinator: getpid(), endpoint: transport.boundEndpoint, clients: children.processIdentifiers,
                adversary: adversaryProcess.processIdentifiers.first
            ).write(to: recorder.path("processes.json"))
        } catch {
            await Self.shutDown(transport: transport, adversaryLink: adversaryLink, processes: everyChild, reason: "cannot record the processes")
            throw error
        }

        let total = config.training.rounds
        let recordedRounds = Mutex(0)
        var environment = CoordinatorEnvironment(
            config: config, testSet: federation.testSet, rootSet: federation.rootSet, logger: logger
        ) { [progress] (record: RoundMetrics) throws(RuntimeError) in
            // Nothing is recorded once the run is stopping; the coordinator stops too.
            if stop.isResolved { throw RuntimeError(.interrupted, "the run is stopping; round \(record.round) is not recorded") }
            // Written and counted under one lock, so that an interruption reading the count sees
            // every line the file holds (it read 0 with one line written, between the two).
            try recordedRounds.withLock { (count: inout Int) throws(RuntimeError) in
                try recorder.record(record)
                count += 1
            }
            let elapsed = started.duration(to: .now)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            var detail = String(format: "acc %.4f  loss %.4f", record.accuracy ?? .nan, record.loss ?? .nan)
            if !record.dropped.isEmpty { detail += "  dropped \(record.dropped.count)" }
            if !record.applied { detail += "  (not applied)" }
            progress.report("round", done: record.round, total: total, elapsed: seconds, detail: detail)
        }
        environment.adversaryLink = adversaryLink
        environment.onCheckpoint = { (state: Checkpoint) throws(RuntimeError) in
            if stop.isResolved { throw RuntimeError(.interrupted, "the run is stopping; no checkpoint after round \(state.round)") }
            var state = state
            state.ledgerHead = recorder.ledgerHead
            state.wallSeconds = earlierWall + started.duration(to: .now).seconds
            state.scenarioSHA256 = scenarioHash
            try state.write(to: recorder.path("checkpoint.json"))
        }
        if config.output.recordUpdates {
            environment.onUpdates = { (round: Int, updates: UpdateMatrix) throws(RuntimeError) in
                if stop.isResolved { throw RuntimeError(.interrupted, "the run is stopping; round \(round)'s updates are not recorded") }
                try recorder.recordUpdates(round: round, updates)
            }
        }

        let coordinator: Coordinator
        do throws(RuntimeError) {
            coordinator = try Coordinator(environment: environment, transport: transport)
        } catch {
            await Self.shutDown(transport: transport, adversaryLink: adversaryLink, processes: everyChild, reason: "the coordinator could not start")
            throw error
        }
        let coordinatorTask = Task { () -> Result<RunResult, RuntimeError> in
            do throws(RuntimeError) {
                return .success(try await coordinator.run(resumingFrom: checkpoint, earlierRounds: earlierRounds))
            } catch {
                return .failure(error)
            }
        }
        let watcher = Task { stop.resolve(.finished(await coordinatorTask.value)) }
        let outcome = await withTaskCancellationHandler {
            await stop.wait()
        } onCancel: {
            stop.resolve(.interrupted)
        }
        watcher.cancel()

        switch outcome {
        case .finished(.success(let result)):
            let summary: RunSummary
            do throws(RuntimeError) {
                summary = try recorder.finish(result, config: config, wallSeconds: earlierWall + started.duration(to: .now).seconds)
            } catch {
                await Self.shutDown(transport: transport, adversaryLink: adversaryLink, processes: everyChild, reason: "run complete")
                throw error
            }
            await Self.shutDown(
                transport: transport, adversaryLink: adversaryLink, processes: everyChild, reason: "run complete", patience: .seconds(10))
            return summary
        case .finished(.failure(let error)):
            await Self.shutDown(
                transport: transport, adversaryLink: adversaryLink, processes: everyChild, reason: "the coordinator stopped: \(error.code)")
            throw error
        case .interrupted:
            // The coordinator task is not cancelled: today's coordinator would run its remaining
            // rounds without updates. It stops at its next record (refused above) or when the
            // command exits, right after this returns.
            let signal = interruption?.receivedSignal
            let name = signal.map(RunInterruption.name(of:)) ?? "cancellation"
            let rounds = recordedRounds.withLock { $0 } + earlierRounds.count
            logger.warning("interrupted by \(name) after \(rounds) of \(total) rounds: stopping the client processes")
            progress.note("fedarena: interrupted by \(name) after \(rounds) of \(total) rounds; stopping the client processes")
            await Self.shutDown(
                transport: transport, adversaryLink: adversaryLink, processes: everyChild, reason: "interrupted by \(name)",
                patience: .seconds(3))
            let marker = InterruptedFile(
                signal: name, roundsRecorded: rounds, roundsPlanned: total,
                at: ISO8601DateFormatter().string(from: Date()),
                childExits: everyChild.flatMap(\.exitStatuses).map { $0?.description ?? "unknown" })
            do throws(RuntimeError) {
                try marker.write(to: recorder.path("interrupted.json"))
            } catch {
                logger.error("\(error)")
            }
            throw RuntimeError(
                .interrupted,
                "interrupted by \(name) after \(rounds) of \(total) rounds; the recorded rounds are in \(recorder.directory) "
                    + "(interrupted.json says so; --resume continues after the last checkpoint)")
        }
    }

    /// Sends SHUTDOWN to every peer the coordinator heard from, gives the children `patience`
    /// to exit on their own, then stops (SIGTERM, SIGKILL) and reaps the rest, and closes the
    /// sockets. Runs in a detached task so that a cancelled caller still waits for the children.
    static func shutDown(
        transport: ZMQServerTransport, adversaryLink: ZMQClientTransport?, processes: [ClientProcesses], reason: String,
        patience: Duration = .seconds(2)
    ) async {
        await Task.detached {
            transport.broadcast(WireCodec.encode(.shutdown(WireMessage.Shutdown(reason: reason))))
            for group in processes { await group.waitForExit(timeout: patience) }
            for group in processes { await group.terminate() }
            transport.close()
            adversaryLink?.close()
        }.value
    }
}

/// How a run stopped: its coordinator finished, or a signal came.
enum RunOutcome: Sendable {
    case finished(Result<RunResult, RuntimeError>)
    case interrupted
}

/// The first way a run stops, awaited once.
final class RunStop: Sendable {
    private struct State {
        var outcome: RunOutcome?
        var waiter: CheckedContinuation<RunOutcome, Never>?
    }

    private let state = Mutex(State())

    /// Whether the run is stopping.
    var isResolved: Bool { state.withLock { $0.outcome != nil } }

    /// Records `outcome` unless another came first, and wakes the waiter.
    func resolve(_ outcome: RunOutcome) {
        state.withLock { state in
            guard state.outcome == nil else { return }
            state.outcome = outcome
            state.waiter?.resume(returning: outcome)
            state.waiter = nil
        }
    }

    /// The first outcome.
    func wait() async -> RunOutcome {
        await withCheckedContinuation { continuation in
            state.withLock { state in
                if let outcome = state.outcome {
                    continuation.resume(returning: outcome)
                } else {
                    state.waiter = continuation
                }
            }
        }
    }
}

/// `interrupted.json`: which signal stopped the run and how far it got.
struct InterruptedFile: Codable {
    var signal: String
    var roundsRecorded: Int
    var roundsPlanned: Int
    var at: String
    var childExits: [String]

    enum CodingKeys: String, CodingKey {
        case signal, at
        case roundsRecorded = "rounds_recorded"
        case roundsPlanned = "rounds_planned"
        case childExits = "child_exits"
    }

    func write(to path: String) throws(RuntimeError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw RuntimeError(.output, "cannot write \(path): \(error)")
        }
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
    /// Once the run is stopping, warnings go to `coordinator.log` only.
    let stop: RunStop
    var logLevel: Logger.Level = .warning
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        guard !stop.isResolved || event.message.description.contains("interrupted by") else { return }
        progress.note("\(event.level): \(event.message)")
    }
}
