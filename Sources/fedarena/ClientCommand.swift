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
            coordinator. The process exits with status 3 when it has had no connection to the coordinator for \
            --coordinator-timeout seconds (heartbeats notice a vanished host within 15 s).
            """)

    @Option(help: "The coordinator's endpoint, e.g. tcp://127.0.0.1:5555.")
    var connect: String

    @Option(help: "This process's index in 0..<clients.processes (default: $JOB_COMPLETION_INDEX, $SLURM_PROCID, or 0).")
    var processIndex: Int?

    @Option(help: "Logical clients to host, comma-separated (default: the round-robin share of the process index).")
    var clients: String?

    @Option(help: "A Fashion-MNIST folder overriding the scenario's dataset.path and $FEDARENA_DATA.")
    var data: String?

    @Flag(inversion: .prefixedNo, help: "Encrypt and authenticate with CurveZMQ (the coordinator must use CURVE too).")
    var curve = true

    @Option(help: "A key folder from `fedarena keys generate`: uses DIR/client-INDEX.key and DIR/coordinator.pub.")
    var keys: String?

    @Option(help: "This process's secret key file (client-N.key).")
    var secretKey: String?

    @Option(help: "The coordinator's public key: a coordinator.pub file or the 40 Z85 characters.")
    var serverKey: String?

    @Option(help: "Exit (status 3) after this many seconds without a connection to the coordinator.")
    var coordinatorTimeout: Double = 120

    @Option(help: ArgumentHelp("The launching coordinator's process id: die with it (set by `fedarena run`).", visibility: .hidden))
    var parentPid: Int32?

    func validate() throws {
        if let clients, parsedClients(clients) == nil {
            throw ValidationError("--clients expects comma-separated client indexes such as 0,1,2, got \"\(clients)\"")
        }
        if coordinatorTimeout <= 0 { throw ValidationError("--coordinator-timeout must be > 0 seconds, got \(coordinatorTimeout)") }
        if curve, keys == nil, secretKey == nil || serverKey == nil {
            throw ValidationError(
                "CURVE is on by default for `fedarena client`: pass --keys DIR (from `fedarena keys generate`), or --secret-key FILE "
                    + "and --server-key FILE, or --no-curve to talk to a plaintext coordinator")
        }
        if !curve, keys != nil || secretKey != nil || serverKey != nil {
            throw ValidationError("--no-curve contradicts --keys/--secret-key/--server-key; drop one of them")
        }
    }

    private func parsedClients(_ text: String) -> [ClientID]? {
        var result = [ClientID]()
        for part in text.split(separator: ",") {
            guard let value = Int(part.trimmingCharacters(in: .whitespaces)), value >= 0 else { return nil }
            result.append(ClientID(value))
        }
        return result.isEmpty ? nil : result
    }

    /// The socket's security from the options.
    private func security(index: Int) throws(CurveKeyError) -> ZMQSecurity {
        guard curve else { return .plaintext }
        let pair: CurveKeyPair
        if let secretKey {
            pair = try CurveKeyDirectory.readSecret(secretKey)
        } else {
            pair = try CurveKeyDirectory.readSecret(CurveKeyDirectory.join(keys ?? ".", CurveKeyDirectory.FileName.clientKey(index)))
        }
        let server = try CurveKeyDirectory.readPublic(
            serverKey ?? CurveKeyDirectory.join(keys ?? ".", CurveKeyDirectory.FileName.coordinatorPublicKey))
        return .curveClient(keyPair: pair, serverKey: server)
    }

    func run() async throws {
        if let parentPid {
            do {
                try ParentWatch.dieWith(parent: parentPid)
            } catch {
                printError("fedarena client: \(error)")
                throw ExitCode(1)
            }
        }
        let environment = ProcessInfo.processInfo.environment
        let index = processIndex
            ?? environment["JOB_COMPLETION_INDEX"].flatMap(Int.init)
            ?? environment["SLURM_PROCID"].flatMap(Int.init)
            ?? 0
        var logger = Logger(label: "client-\(index)")
        logger.logLevel = .info
        let options: ZMQTransportOptions
        do {
            options = ZMQTransportOptions(security: try security(index: index))
        } catch {
            printError("fedarena client \(index): \(error.message)")
            throw ExitCode(2)
        }
        let context = ZMQContext()
        do {
            let transport = try ZMQClientTransport(context: context, endpoint: connect, options: options)
            defer { transport.close() }
            logger.info("process \(index): connecting to \(connect), \(options.security.summary)")
            let watchdog = CoordinatorWatchdog.start(transport: transport, timeout: .seconds(coordinatorTimeout), index: index, logger: logger)
            defer { watchdog.cancel() }
            let runtime = ClientRuntime(
                transport: transport, processIndex: index, clients: clients.flatMap(parsedClients) ?? [],
                dataDirectory: data, adversaryContext: context, logger: logger)
            try await runtime.run()
        } catch {
            printError("fedarena client \(index): \(error)")
            throw ExitCode(1)
        }
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
                    printError(
                        "fedarena client \(index): no connection to the coordinator at \(transport.endpoint) for \(seconds) s"
                            + (status.lastFailure.map { " (last failure: \($0))" } ?? "") + "; exiting (--coordinator-timeout)")
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
