import ArgumentParser
import Foundation

/// The exit statuses of `fedarena coordinator` and `fedarena client` (what a Job, a Slurm step
/// or a compose service sees), and the text that documents them in each command's help.
enum ExitStatus {
    /// The run finished (or there was nothing left to do).
    static let ok: Int32 = 0
    /// The run failed at run time: a dataset, socket, peer or output problem (the log says which).
    static let failure: Int32 = 1
    /// The scenario, an option or a `FEDARENA_*` variable is invalid: nothing was started.
    static let invalid: Int32 = 2
    /// Stopped by SIGINT (128 + 2).
    static let interrupted: Int32 = 128 + SIGINT
    /// Stopped by SIGTERM (128 + 15), e.g. a pod deleted or a Slurm job cancelled.
    static let terminated: Int32 = 128 + SIGTERM
    /// What ArgumentParser returns for a command line it cannot parse (EX_USAGE).
    static let unparsable: Int32 = ExitCode.validationFailure.rawValue

    /// The lines of a command's discussion that list the statuses.
    /// - Parameter extra: Statuses particular to the command, as `(status, meaning)`.
    /// - Returns: The text, one status per line.
    static func documentation(extra: [(Int32, String)] = []) -> String {
        let rows: [(Int32, String)] =
            [
                (ok, "finished"),
                (failure, "run-time failure (data, socket, peers, outputs; the log says which)"),
                (invalid, "invalid scenario, option value or FEDARENA_* variable (nothing started)"),
            ] + extra + [
                (interrupted, "stopped by SIGINT"),
                (terminated, "stopped by SIGTERM (pod deleted, scancel)"),
                (unparsable, "unparsable command line (unknown option, missing value)"),
            ]
        return "Exit status:\n" + rows.map { "  \(String($0.0).padding(toLength: 4, withPad: " ", startingAt: 0))\($0.1)" }.joined(separator: "\n")
    }
}
