import ArgumentParser
import FedArenaCore
import FedArenaReports
import FedArenaScenarios
import Foundation

/// `fedarena sweep FILE`: an attack x defense (or any) matrix of runs, with tables over seeds.
struct SweepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run a sweep: a base scenario varied along axes, one run folder per cell, tables over seeds.",
        discussion: """
            Locally:   fedarena sweep FILE [--jobs N] [--out DIR]   (re-run the same command to resume)
            Cluster:   fedarena sweep FILE --list                   (the cells, by index)
                       fedarena sweep FILE --cell I --out DIR       (one cell, e.g. a Slurm array task)
                       fedarena sweep FILE --collect DIR            (the tables from cell folders made anywhere)
            Outputs in DIR: one run folder per cell, cells.jsonl, results.csv, table.md.
            Exit status: 0 when every cell finished, otherwise the number of failed cells (at most 100);
            101 for an invalid sweep file or folder, 130 when stopped by SIGINT or SIGTERM.
            """)

    @Argument(help: "The sweep YAML file.")
    var file: String

    @Option(help: "Cells run at once (default: the cores divided by the client processes of a cell).")
    var jobs: Int?

    @Flag(help: "Print the cells (index, role, hash, folder name) and their count, then exit.")
    var list = false

    @Flag(help: "Print only the number of cells (for job-array sizes), then exit.")
    var count = false

    @Option(help: "Run only cell I (see --list) into DIR/<cell name>, skipping it when already done.")
    var cell: Int?

    @Option(help: "Build cells.jsonl, results.csv and table.md from the cell folders in DIR (no run).")
    var collect: String?

    @Option(help: "The sweep folder (default: sweeps/NAME).")
    var out: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a key of the base scenario (repeatable), e.g. --set training.rounds=2.", valueName: "key.path=value"))
    var overrides: [String] = []

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1, got \(jobs)") }
        if let cell, cell < 0 { throw ValidationError("--cell must be a cell index from --list, got \(cell)") }
        if [list || count, cell != nil, collect != nil].filter({ $0 }).count > 1 {
            throw ValidationError("--list/--count, --cell and --collect are separate modes; give one")
        }
    }

    func run() async throws {
        let plan: SweepPlan
        do throws(SweepError) {
            var sweep = try SweepFile(contentsOf: file)
            for override in overrides {
                do throws(ConfigError) {
                    try sweep.base.apply(override: override)
                } catch {
                    throw SweepError(.invalidSweep, "\(file): \(error)", cause: error)
                }
            }
            plan = try SweepPlan.expand(sweep)
        } catch {
            printError("invalid sweep: \(error)")
            throw ExitCode(101)
        }
        if count {
            print(plan.cells.count)
            return
        }
        if list {
            print(Self.listing(plan))
            return
        }
        let folder = collect ?? out ?? "sweeps/\(SweepAxis.sanitized(plan.file.name))"
        if let collect {
            let collector = SweepCollector(plan: plan, directory: out ?? collect)
            let records: [SweepCellRecord]
            do throws(SweepError) {
                records = try SweepCollector(plan: plan, directory: collect).records()
                try collector.write(records)
            } catch {
                printError("fedarena sweep --collect: \(error)")
                throw ExitCode(101)
            }
            let missing = records.filter { $0.status == .missing }.count
            let failed = records.filter { $0.status == .failed }.count
            print("collected \(records.count - missing - failed) of \(records.count) cells (\(failed) failed, \(missing) missing); tables in \(collector.directory)/ (cells.jsonl, results.csv, table.md)")
            if failed + missing > 0 { throw ExitCode(Int32(min(100, failed + missing))) }
            return
        }
        let runner = SweepRunner(plan: plan, directory: folder, executable: currentExecutable(), jobs: jobs)
        if let cell {
            guard cell < plan.cells.count else {
                printError("fedarena sweep: --cell \(cell) is out of range: the sweep has \(plan.cells.count) cells (0...\(plan.cells.count - 1))")
                throw ExitCode(101)
            }
            let target = plan.cells[cell]
            let outcome = await Self.withSignalsCancelling { () async throws(SweepError) -> SweepRunner.CellOutcome in
                try await runner.runCell(target)
            }
            switch outcome {
            case .success(.kept): print("cell \(cell) \(target.name): already done in \(runner.folder(of: target))")
            case .success(.done): print("cell \(cell) \(target.name): done in \(runner.folder(of: target))")
            case .success(.failed(let reason)):
                printError("cell \(cell) \(target.name) failed: \(reason)")
                throw ExitCode(1)
            case .success(.interrupted): throw ExitCode(130)
            case .failure(let error):
                printError("fedarena sweep --cell \(cell): \(error)")
                throw ExitCode(1)
            }
            return
        }
        switch await Self.withSignalsCancelling({ () async throws(SweepError) -> SweepRunner.Outcome in try await runner.run() }) {
        case .success(let outcome):
            print("sweep \(plan.file.name): \(outcome.done) of \(plan.cells.count) cells done, \(outcome.failed) failed; tables in \(runner.directory)/ (table.md, results.csv, cells.jsonl)")
            if outcome.interrupted > 0 { throw ExitCode(130) }
            if outcome.failed > 0 { throw ExitCode(Int32(min(100, outcome.failed))) }
        case .failure(let error):
            printError("fedarena sweep: \(error)")
            throw ExitCode(101)
        }
    }

    /// Runs `body` in a task that SIGINT and SIGTERM cancel (the runner then stops its cells'
    /// process trees and writes the tables for what finished).
    static func withSignalsCancelling<T: Sendable>(
        _ body: @escaping @Sendable () async throws(SweepError) -> T
    ) async -> Result<T, SweepError> {
        let task = Task { () async -> Result<T, SweepError> in
            do throws(SweepError) {
                return .success(try await body())
            } catch {
                return .failure(error)
            }
        }
        var sources = [any DispatchSourceSignal]()
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { task.cancel() }
            source.resume()
            sources.append(source)
        }
        let result = await task.value
        for source in sources { source.cancel() }
        return result
    }

    /// The `--list` text: one line per cell, then the count.
    static func listing(_ plan: SweepPlan) -> String {
        let width = String(plan.cells.count - 1).count
        var lines = plan.cells.map { cell in
            let index = String(repeating: " ", count: width - String(cell.index).count) + String(cell.index)
            let role = cell.role == .baseline ? "baseline" : "cell    "
            return "\(index)  \(role)  \(cell.hash.prefix(12))  \(cell.name)"
        }
        let baselines = plan.cells.count - plan.axisCells.count
        let processes = plan.cells.map(\.config.clients.processes).max() ?? 1
        let rounds = plan.cells.map(\.config.training.rounds).reduce(0, +)
        lines.append(
            "\(plan.cells.count) cells (\(plan.axisCells.count) axis combinations\(baselines > 0 ? " + \(baselines) attack-off baselines" : "")); "
                + "\(rounds) rounds in all; up to \(processes) client processes per cell")
        return lines.joined(separator: "\n")
    }
}
