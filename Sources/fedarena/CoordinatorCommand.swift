import ArgumentParser
import FedArenaCore
import FedArenaScenarios
import Foundation

/// `fedarena coordinator FILE --bind ENDPOINT`: a coordinator whose clients start elsewhere.
struct CoordinatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Run only the coordinator; clients connect with `fedarena client` (Kubernetes, Slurm, other hosts).",
        discussion: """
            CURVE is on by default (transport.curve): make keys with `fedarena keys generate DIR --clients N` and \
            pass --set transport.keys=DIR; only the client keys of DIR/allow-list.json are admitted, each bound to \
            its process index. --set transport.curve=false runs in plaintext (trusted networks only).
            """)

    @OptionGroup var scenario: ScenarioOptions

    @Option(help: "The endpoint to bind (overrides transport.endpoint), e.g. tcp://0.0.0.0:5555.")
    var bind: String?

    @Option(help: "The run folder (default: runs/NAME-TIMESTAMP).")
    var out: String?

    @Flag(help: "Continue the run the --out folder holds after its last checkpoint (clients reconnect on their own).")
    var resume = false

    @Flag(help: "Replace a run that the --out folder already holds (refused otherwise).")
    var overwrite = false

    func validate() throws {
        if resume && out == nil { throw ValidationError("--resume needs --out RUN_DIR, the folder of the run to continue") }
        if resume && overwrite { throw ValidationError("--resume and --overwrite exclude each other") }
    }

    func run() async throws {
        var config = try scenario.load()
        if let bind { config.transport.endpoint = bind }
        let folder = out ?? RunFolder.defaultPath(name: config.name)
        let summary = try await RunFolder.runInterruptibly(
            config: config, folder: folder, existing: resume ? .resume : (overwrite ? .overwrite : .refuse), startsClients: false,
            command: "coordinator")
        print(RunFolder.describe(summary, folder: folder))
    }
}
