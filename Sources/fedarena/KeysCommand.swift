import ArgumentParser
import FedArenaWire
import Foundation

/// `fedarena keys generate DIR --clients N`: CURVE key pairs and the allow-list of a deployment.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Make CurveZMQ keys for runs across hosts (transport.curve).",
        subcommands: [Generate.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate",
            abstract: "Write the coordinator's, the adversary's and each client process's key pair, and the allow-list.",
            discussion: """
                DIR gets coordinator.key, adversary.key and client-N.key (secret, mode 0600), coordinator.pub and \
                adversary.pub (public), and allow-list.json, which binds each client public key to one process index: \
                the coordinator admits only listed keys, and a process cannot speak for another index. Give each client \
                host only its own client-N.key and coordinator.pub. DIR must not already hold keys.
                """)

        @Argument(help: "The folder to write (created with mode 0700).")
        var directory: String

        @Option(help: "How many client processes (process indexes 0..<N) get a key pair.")
        var clients: Int = 1

        func validate() throws {
            if clients < 1 { throw ValidationError("--clients must be at least 1, got \(clients)") }
            if clients > 100_000 { throw ValidationError("--clients must be at most 100000, got \(clients)") }
        }

        func run() throws {
            let folder: CurveKeyDirectory
            do {
                folder = try CurveKeyDirectory.generate(at: directory, clientProcesses: clients)
            } catch {
                printError("fedarena keys generate: \(error.message)")
                throw ExitCode(1)
            }
            let last = clients - 1
            print("""
                wrote \(folder.path): coordinator.key, coordinator.pub, adversary.key, adversary.pub, \
                client-0.key\(clients > 1 ? " ... client-\(last).key" : ""), allow-list.json
                coordinator:      fedarena coordinator FILE --set transport.keys=\(folder.path)
                client process N: fedarena client --connect tcp://HOST:PORT --process-index N \\
                                    --secret-key \(folder.file("client-N.key")) --server-key \(folder.file(CurveKeyDirectory.FileName.coordinatorPublicKey))
                """)
        }
    }
}
