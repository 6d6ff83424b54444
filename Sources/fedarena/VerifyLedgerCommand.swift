import ArgumentParser
import FedArenaRuntime

/// `fedarena verify-ledger RUN_DIR`: checks a run's hash-chained ledger.
struct VerifyLedgerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-ledger",
        abstract: "Check that a run's ledger.jsonl is intact (every hash and every link of the chain).")

    @Argument(help: "The run folder (or the ledger.jsonl file).")
    var folder: String

    func run() throws {
        let path = folder.hasSuffix(".jsonl") ? folder : folder + "/ledger.jsonl"
        let verification: Ledger.Verification
        do {
            verification = try Ledger.verify(path: path)
        } catch {
            printError("fedarena verify-ledger: \(error)")
            throw ExitCode(2)
        }
        if let problem = verification.problem {
            printError("\(path): BROKEN after \(verification.entries) intact entries: \(problem)")
            throw ExitCode(1)
        }
        print("\(path): intact, \(verification.entries) entries")
    }
}
