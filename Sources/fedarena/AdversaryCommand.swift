import ArgumentParser
import FedArenaCore
import FedArenaRuntime
import FedArenaScenarios
import FedArenaWire
import Foundation
import Logging

/// `fedarena adversary FILE --bind ENDPOINT`: the process that pools malicious updates.
struct AdversaryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adversary",
        abstract: "Run the adversary of a colluding attack (started by `fedarena run`; by hand across hosts).",
        discussion: """
            With CURVE (transport.curve, on unless the scenario or --no-curve says otherwise) the socket admits the \
            client processes and the coordinator of the key folder's allow-list (--keys DIR or transport.keys) and \
            uses DIR/adversary.key.
            """)

    @OptionGroup var scenario: ScenarioOptions

    @Option(help: "The endpoint to bind; malicious clients connect to it (transport.adversary_endpoint).")
    var bind: String

    @Flag(inversion: .prefixedNo, help: "Encrypt and authenticate with CurveZMQ (default: transport.curve, else on).")
    var curve: Bool?

    @Option(help: "A key folder from `fedarena keys generate` (default: transport.keys).")
    var keys: String?

    @Option(help: ArgumentHelp("The launching coordinator's process id: die with it (set by `fedarena run`).", visibility: .hidden))
    var parentPid: Int32?

    func run() async throws {
        if let parentPid {
            do {
                try ParentWatch.dieWith(parent: parentPid)
            } catch {
                printError("fedarena adversary: \(error)")
                throw ExitCode(1)
            }
        }
        var config = try scenario.load()
        config.transport.adversaryEndpoint = bind
        let logger = Logger(label: "adversary")
        let context = ZMQContext()
        do {
            var options = ZMQTransportOptions()
            // The adversary receives the malicious clients' UPDATEs: the coordinator's limits.
            // Fashion-MNIST shapes (784 features, 10 classes), as the model engine assumes.
            options.maxMessageBytes = try TransportLimits.inbound(for: config, featureCount: 784, classCount: 10).maxMessageBytes
            if curve ?? config.transport.curve ?? true {
                guard let path = keys ?? config.transport.keysDirectory else {
                    printError("fedarena adversary: CURVE is on: pass --keys DIR (or transport.keys), or --no-curve")
                    throw ExitCode(2)
                }
                let folder = try CurveKeyDirectory(path: path)
                options.security = .curveServer(keyPair: try folder.adversaryKeyPair(), allowList: folder.allowList)
            }
            let transport = try ZMQServerTransport(context: context, endpoint: bind, options: options)
            defer { transport.close() }
            logger.info("adversary: bound \(transport.boundEndpoint), \(options.security.summary)")
            try await AdversaryRuntime(config: config, transport: transport, logger: logger).run()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            printError("fedarena adversary: \(error)")
            throw ExitCode(1)
        }
    }
}
