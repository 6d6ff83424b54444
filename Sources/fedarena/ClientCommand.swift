import ArgumentParser
import FedArenaCore
import FedArenaRuntime
import FedArenaWire
import Foundation
import Logging

/// `fedarena client --connect ENDPOINT --process-index N`: one client process.
struct ClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client",
        abstract: "Run one client process; it receives the scenario from the coordinator.")

    @Option(help: "The coordinator's endpoint, e.g. tcp://127.0.0.1:5555.")
    var connect: String

    @Option(help: "This process's index in 0..<clients.processes (default: $JOB_COMPLETION_INDEX, $SLURM_PROCID, or 0).")
    var processIndex: Int?

    @Option(help: "Logical clients to host, comma-separated (default: the round-robin share of the process index).")
    var clients: String?

    @Option(help: "A Fashion-MNIST folder overriding the scenario's dataset.path and $FEDARENA_DATA.")
    var data: String?

    func validate() throws {
        if let clients, parsedClients(clients) == nil {
            throw ValidationError("--clients expects comma-separated client indexes such as 0,1,2, got \"\(clients)\"")
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

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let index = processIndex
            ?? environment["JOB_COMPLETION_INDEX"].flatMap(Int.init)
            ?? environment["SLURM_PROCID"].flatMap(Int.init)
            ?? 0
        var logger = Logger(label: "client-\(index)")
        logger.logLevel = .info
        let context = ZMQContext()
        do {
            let transport = try ZMQClientTransport(context: context, endpoint: connect)
            defer { transport.close() }
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
