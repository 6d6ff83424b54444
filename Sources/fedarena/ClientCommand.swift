import ArgumentParser
import FedArenaCore
import FedArenaRuntime
import FedArenaScenarios
import FedArenaWire
import Foundation
import Logging

/// `fedarena client --connect ENDPOINT --process-index N`: one client process.
struct ClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client",
        abstract: "Run one client process; it receives the scenario from the coordinator.",
        discussion: """
            CURVE is on by default: give --keys DIR (a folder from `fedarena keys generate`, whose client-INDEX.key \
            and coordinator.pub are used) or --secret-key FILE --server-key FILE, or --no-curve for a plaintext \
            coordinator. Heartbeats notice a vanished coordinator host within 15 s.

            Every option can also be set by the FEDARENA_* variable its help names (a container's or \
            a pod's environment); an option on the command line wins over its variable.

            \(ExitStatus.documentation(extra: [(CoordinatorWatchdog.exitStatus, "no connection to the coordinator for --coordinator-timeout seconds")]))
            """)

    @Option(help: "The coordinator's endpoint, e.g. tcp://127.0.0.1:5555 (env FEDARENA_CONNECT; required).")
    var connect: String?

    @Option(help: "This process's index in 0..<clients.processes (env FEDARENA_PROCESS_INDEX, then $JOB_COMPLETION_INDEX, $SLURM_PROCID; default 0).")
    var processIndex: Int?

    @Option(help: "Logical clients to host, comma-separated (env FEDARENA_CLIENTS; default: the round-robin share of the process index).")
    var clients: String?

    @Option(help: "A Fashion-MNIST folder overriding the scenario's dataset.path (env FEDARENA_DATA).")
    var data: String?

    @Flag(inversion: .prefixedNo, help: "Encrypt and authenticate with CurveZMQ; the coordinator must use CURVE too (env FEDARENA_CURVE; default on).")
    var curve: Bool?

    @Option(help: "A key folder from `fedarena keys generate`: uses DIR/client-INDEX.key and DIR/coordinator.pub (env FEDARENA_KEYS).")
    var keys: String?

    @Option(help: "This process's secret key file, client-N.key (env FEDARENA_SECRET_KEY).")
    var secretKey: String?

    @Option(help: "The coordinator's public key: a coordinator.pub file or the 40 Z85 characters (env FEDARENA_SERVER_KEY).")
    var serverKey: String?

    @Option(help: "Exit (status 3) after this many seconds without a connection to the coordinator (env FEDARENA_COORDINATOR_TIMEOUT; default 120).")
    var coordinatorTimeout: Double?

    @Option(help: ArgumentHelp("The launching coordinator's process id: die with it (set by `fedarena run`).", visibility: .hidden))
    var parentPid: Int32?

    @OptionGroup var logging: LogOptions

    /// The settings of one client process, from the options and the environment.
    struct Settings: Equatable {
        var connect: String
        var processIndex: Int
        var clients: [ClientID]
        var data: String?
        var curve: Bool = true
        var keys: String?
        var secretKey: String?
        var serverKey: String?
        var coordinatorTimeout: Double = 120
    }

    /// The settings: each option, else its `FEDARENA_*` variable, else its default.
    /// - Parameter environment: Where the variables are read.
    /// - Returns: The settings to run with.
    /// - Throws: ``OptionError`` naming the option and its variable when a value is missing,
    ///   malformed, or contradicts another.
    func resolve(_ environment: OptionEnvironment) throws(OptionError) -> Settings {
        guard let endpoint = environment.string(connect, "FEDARENA_CONNECT") else {
            throw OptionError(.missingValue, "give the coordinator's endpoint with --connect or FEDARENA_CONNECT, e.g. tcp://coordinator:5555")
        }
        var index = try environment.int(processIndex, "FEDARENA_PROCESS_INDEX")
        for fallback in ["JOB_COMPLETION_INDEX", "SLURM_PROCID"] where index == nil {
            index = try environment.int(nil, fallback)
        }
        let processIndex = index ?? 0
        guard processIndex >= 0 else {
            throw OptionError(.invalidValue, "the process index must be >= 0, got \(processIndex) (--process-index, FEDARENA_PROCESS_INDEX)")
        }
        var hosted = [ClientID]()
        if let list = environment.string(clients, "FEDARENA_CLIENTS") {
            guard let parsed = Self.parsedClients(list) else {
                throw OptionError(
                    .invalidValue, "--clients / FEDARENA_CLIENTS expects comma-separated client indexes such as 0,1,2, got \"\(list)\"")
            }
            hosted = parsed
        }
        var settings = Settings(connect: endpoint, processIndex: processIndex, clients: hosted, data: environment.string(data, "FEDARENA_DATA"))
        settings.curve = try environment.bool(curve, "FEDARENA_CURVE") ?? true
        settings.keys = environment.string(keys, "FEDARENA_KEYS")
        settings.secretKey = environment.string(secretKey, "FEDARENA_SECRET_KEY")
        settings.serverKey = environment.string(serverKey, "FEDARENA_SERVER_KEY")
        settings.coordinatorTimeout = try environment.double(coordinatorTimeout, "FEDARENA_COORDINATOR_TIMEOUT") ?? 120
        guard settings.coordinatorTimeout > 0 else {
            throw OptionError(
                .invalidValue, "--coordinator-timeout / FEDARENA_COORDINATOR_TIMEOUT must be > 0 seconds, got \(settings.coordinatorTimeout)")
        }
        let anyKey = settings.keys != nil || settings.secretKey != nil || settings.serverKey != nil
        if settings.curve, settings.keys == nil, settings.secretKey == nil || settings.serverKey == nil {
            throw OptionError(
                .missingValue,
                "CURVE is on by default for `fedarena client`: pass --keys DIR (FEDARENA_KEYS, from `fedarena keys generate`), or "
                    + "--secret-key FILE and --server-key FILE (FEDARENA_SECRET_KEY, FEDARENA_SERVER_KEY), or --no-curve "
                    + "(FEDARENA_CURVE=false) to talk to a plaintext coordinator")
        }
        if !settings.curve, anyKey {
            throw OptionError(.conflict, "--no-curve (FEDARENA_CURVE=false) contradicts the key options (--keys, --secret-key, --server-key or their variables); drop one of them")
        }
        return settings
    }

    /// `0,1,2` as client IDs, or `nil` when malformed.
    static func parsedClients(_ text: String) -> [ClientID]? {
        var result = [ClientID]()
        for part in text.split(separator: ",") {
            guard let value = Int(part.trimmingCharacters(in: .whitespaces)), value >= 0 else { return nil }
            result.append(ClientID(value))
        }
        return result.isEmpty ? nil : result
    }

    /// The socket's security from the settings.
    static func security(_ settings: Settings) throws(CurveKeyError) -> ZMQSecurity {
        guard settings.curve else { return .plaintext }
        let folder = settings.keys ?? "."
        let pair = try CurveKeyDirectory.readSecret(
            settings.secretKey ?? CurveKeyDirectory.join(folder, CurveKeyDirectory.FileName.clientKey(settings.processIndex)))
        let server = try CurveKeyDirectory.readPublic(
            settings.serverKey ?? CurveKeyDirectory.join(folder, CurveKeyDirectory.FileName.coordinatorPublicKey))
        return .curveClient(keyPair: pair, serverKey: server)
    }

    func run() async throws {
        let environment = OptionEnvironment()
        let log = try logging.bootstrap(environment, command: "client")
        if let parentPid {
            do {
                try ParentWatch.dieWith(parent: parentPid)
            } catch {
                log.logger("client").error("\(error)")
                throw ExitCode(ExitStatus.failure)
            }
        }
        let settings: Settings
        do throws(OptionError) {
            settings = try resolve(environment)
        } catch {
            log.logger("client").error("\(error.message)")
            throw ExitCode(ExitStatus.invalid)
        }
        let index = settings.processIndex
        let logger = Logger(label: "client-\(index)")
        let options: ZMQTransportOptions
        do {
            options = ZMQTransportOptions(security: try Self.security(settings))
        } catch {
            logger.error("\(error.message)", metadata: ["process_index": "\(index)"])
            throw ExitCode(ExitStatus.invalid)
        }
        let context = ZMQContext()
        do {
            let transport = try ZMQClientTransport(context: context, endpoint: settings.connect, options: options)
            defer { transport.close() }
            logger.notice("process \(index): connecting to \(settings.connect), \(options.security.summary)", metadata: ["process_index": "\(index)"])
            let watchdog = CoordinatorWatchdog.start(
                transport: transport, timeout: .seconds(settings.coordinatorTimeout), index: index, logger: logger)
            defer { watchdog.cancel() }
            let runtime = ClientRuntime(
                transport: transport, processIndex: index, clients: settings.clients,
                dataDirectory: settings.data, adversaryContext: context, logger: logger)
            try await runtime.run()
        } catch {
            logger.error("fedarena client \(index) failed: \(error)", metadata: ["process_index": "\(index)"])
            throw ExitCode(ExitStatus.failure)
        }
        logger.notice("process \(index): finished", metadata: ["process_index": "\(index)"])
    }
}

/// Ends a client process whose coordinator has been unreachable for too long, and reports
/// handshake failures (a refused key) as they happen.
enum CoordinatorWatchdog {
    /// The exit status of a client that gave up on its coordinator.
    static let exitStatus: Int32 = 3

    static func start(transport: ZMQClientTransport, timeout: Duration, index: Int, logger: Logger) -> Task<Void, Never> {
        Task.detached {
            var reported: String?
            while !Task.isCancelled {
                let status = transport.connectionStatus
                if let failure = status.lastFailure, failure != reported {
                    logger.warning("process \(index): \(failure)")
                    reported = failure
                }
                if status.silence >= timeout {
                    let seconds = Int(timeout.components.seconds)
                    let failure = status.lastFailure.map { " (last failure: \($0))" } ?? ""
                    logger.error(
                        "fedarena client \(index): no connection to the coordinator at \(transport.endpoint) for \(seconds) s\(failure); exiting (--coordinator-timeout)")
                    Foundation.exit(exitStatus)
                }
                do {
                    try await Task.sleep(for: .milliseconds(500))
                } catch {
                    return
                }
            }
        }
    }
}
