import ArgumentParser
import FedArenaCore
import FedArenaScenarios
import Foundation

/// `fedarena coordinator FILE --bind ENDPOINT`: a coordinator whose clients start elsewhere.
struct CoordinatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Run only the coordinator; clients connect with `fedarena client` (Kubernetes, Slurm, other hosts).")

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
        var launcher = LocalLauncher(config: config, outputDirectory: folder, executable: currentExecutable(), startsClients: false)
        launcher.existing = resume ? .resume : (overwrite ? .overwrite : .refuse)
        do {
            let summary = try await launcher.run()
            print(RunFolder.describe(summary, folder: folder))
        } catch {
            printError("fedarena coordinator failed: \(error)")
            throw ExitCode(1)
        }
    }
}
