import ArgumentParser
import FedArenaCore
import FedArenaScenarios

/// `fedarena validate FILE`: checks a scenario without running it.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a scenario file (keys, types, bounds) and print it resolved with defaults.")

    @OptionGroup var scenario: ScenarioOptions

    @Flag(help: "Print only errors.")
    var quiet = false

    func run() throws {
        let config = try scenario.load()
        if !quiet {
            print("# \(scenario.file): valid")
            print(ScenarioWriter.yaml(ScenarioSchema.resolvedTree(config)), terminator: "")
        }
    }
}
