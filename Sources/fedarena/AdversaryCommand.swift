import ArgumentParser
import FedArenaCore
import FedArenaRuntime
import FedArenaWire
import Foundation
import Logging

/// `fedarena adversary FILE --bind ENDPOINT`: the process that pools malicious updates.
struct AdversaryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adversary",
        abstract: "Run the adversary of a colluding attack (started by `fedarena run`; by hand across hosts).")

    @OptionGroup var scenario: ScenarioOptions

    @Option(help: "The endpoint to bind; malicious clients connect to it (transport.adversary_endpoint).")
    var bind: String

    func run() async throws {
        var config = try scenario.load()
        config.transport.adversaryEndpoint = bind
        let logger = Logger(label: "adversary")
        let context = ZMQContext()
        do {
            let transport = try ZMQServerTransport(context: context, endpoint: bind)
            defer { transport.close() }
            try await AdversaryRuntime(config: config, transport: transport, logger: logger).run()
        } catch {
            printError("fedarena adversary: \(error)")
            throw ExitCode(1)
        }
    }
}
