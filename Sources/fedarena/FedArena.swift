import ArgumentParser

/// The `fedarena` command line.
@main
struct FedArena: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fedarena",
        abstract: "A federated-learning arena for poisoning attacks and defenses.",
        discussion: """
            Run a scenario locally:     fedarena run scenarios/quickstart.yaml
            Check a scenario:           fedarena validate scenarios/quickstart.yaml --set clients.count=20
            Across hosts (k8s/Slurm):   fedarena keys generate keys --clients N
                                        fedarena coordinator FILE --bind tcp://0.0.0.0:5555 --set transport.keys=keys
                                        fedarena client --connect tcp://HOST:5555 --process-index N --keys keys
            """,
        subcommands: [
            RunCommand.self, SweepCommand.self, ReportCommand.self, ValidateCommand.self, AggregateCommand.self, DetectCommand.self, SynthCommand.self, BenchCommand.self, CoordinatorCommand.self, ClientCommand.self, AdversaryCommand.self, VerifyLedgerCommand.self, KeysCommand.self, RelayCommand.self,
        ])
}
