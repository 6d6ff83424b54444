import ArgumentParser
import FedArenaCore
import FedArenaRuntime
import FedArenaScenarios
import Foundation

/// The scenario file and its `--set` overrides, shared by `run`, `validate` and `coordinator`.
struct ScenarioOptions: ParsableArguments {
    @Argument(help: "The scenario YAML file.")
    var file: String

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a scenario key (repeatable), e.g. --set training.rounds=5.", valueName: "key.path=value"))
    var overrides: [String] = []

    /// Reads, overrides and validates the scenario; prints the error and exits 2 when invalid.
    func load() throws -> ScenarioConfig {
        try Self.load(file, overrides: overrides)
    }

    /// Reads `file`, applies `overrides` and validates; reports the error and exits 2 when invalid.
    /// - Parameters:
    ///   - file: The scenario YAML file.
    ///   - overrides: `key.path=value` overrides, applied in order.
    ///   - report: Where the error goes (standard error by default; a logger for the commands
    ///     that log JSON).
    /// - Returns: The validated scenario.
    /// - Throws: `ExitCode(2)` after reporting, when the file or an override is invalid.
    static func load(_ file: String, overrides: [String], report: (String) -> Void = printError) throws -> ScenarioConfig {
        do throws(ConfigError) {
            var document = try ScenarioDocument(contentsOf: file)
            for override in overrides { try document.apply(override: override) }
            let config = try ScenarioSchema.decode(document)
            try Preflight.check(config).mapError { $0.inFile(file) }.get()
            return config
        } catch {
            report("invalid scenario: \(error)")
            throw ExitCode(2)
        }
    }
}

/// Prints `message` on standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// The path of the running executable (to start client processes of the same binary).
func currentExecutable() -> String {
    if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return resolved }
    return CommandLine.arguments[0]
}
