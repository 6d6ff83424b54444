import FedArenaCore
import FedArenaReports
import Foundation

/// Runs a sweep's cells on this machine, each as a child `fedarena run` process writing a
/// normal run folder inside the sweep folder, up to `jobs` at a time.
///
/// Resumable: a cell whose folder holds a `done` ``SweepCellState`` with the cell's hash is
/// kept; every other cell is run again from scratch (a run left behind by a killed sweep is
/// stopped first). A failed cell is recorded with its error and the others go on.
public struct SweepRunner: Sendable {
    /// How one cell ended.
    public enum CellOutcome: Sendable, Equatable {
        /// Finished earlier; kept.
        case kept
        /// Ran and finished.
        case done(seconds: Double)
        /// Ran and failed.
        case failed(String)
        /// Stopped by a signal before it finished.
        case interrupted
    }

    /// The counts of a sweep.
    public struct Outcome: Sendable, Equatable {
        /// Cells finished (kept or run now).
        public var done: Int
        /// Cells whose run failed.
        public var failed: Int
        /// Cells not run because the sweep was stopped.
        public var interrupted: Int
    }

    /// The expanded sweep.
    public var plan: SweepPlan
    /// The sweep folder (absolute).
    public var directory: String
    /// The `fedarena` executable for the cells' runs.
    public var executable: String
    /// How many cells run at once.
    public var jobs: Int
    /// Progress output.
    public var progress: SweepProgress

    /// Creates a runner.
    /// - Parameters:
    ///   - plan: the sweep.
    ///   - directory: the sweep folder (made absolute against the working directory).
    ///   - executable: the `fedarena` binary.
    ///   - jobs: cells at once; default ``defaultJobs(for:cores:)``.
    ///   - progress: progress output.
    public init(plan: SweepPlan, directory: String, executable: String, jobs: Int? = nil, progress: SweepProgress = SweepProgress()) {
        self.plan = plan
        self.directory = URL(fileURLWithPath: directory).standardizedFileURL.path
        self.executable = executable
        self.jobs = max(1, jobs ?? Self.defaultJobs(for: plan))
        self.progress = progress
    }

    /// How many cells fit at once: the cores divided by the client processes of the largest
    /// cell (clients train in parallel; the coordinator mostly waits), at least 1.
    public static func defaultJobs(for plan: SweepPlan, cores: Int = ProcessInfo.processInfo.activeProcessorCount) -> Int {
        let perCell = plan.cells.map(\.config.clients.processes).max() ?? 1
        return max(1, cores / max(1, perCell))
    }

    /// A cell's run folder.
    public func folder(of cell: SweepCell) -> String { directory + "/" + cell.name }

    /// Whether a cell finished in an earlier sweep with its current scenario.
    /// - Throws: ``SweepError`` `.output` when its `cell.json` is unreadable.
    public func isFinished(_ cell: SweepCell) throws(SweepError) -> Bool {
        let folder = folder(of: cell)
        guard let state = try SweepCellState.read(folder: folder) else { return false }
        return state.status == .done && state.hash == cell.hash && FileManager.default.fileExists(atPath: folder + "/summary.json")
    }

    /// Runs every unfinished cell, then writes `cells.jsonl`, `results.csv` and `table.md`.
    /// Cancelling the calling task stops the running cells (their process trees) and starts
    /// no more; the tables are written for what finished.
    /// - Returns: the counts.
    /// - Throws: ``SweepError`` `.output` when the sweep folder or its tables cannot be written.
    public func run() async throws(SweepError) -> Outcome {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw SweepError(.output, "cannot create the sweep folder \(directory): \(error)")
        }
        try writeManifest()
        var pending = [SweepCell]()
        var kept = 0
        for cell in plan.cells {
            if try isFinished(cell) {
                kept += 1
                progress.skipped(cell)
            } else {
                pending.append(cell)
            }
        }
        progress.start(sweep: plan.file.name, total: plan.cells.count, skipped: kept, jobs: min(jobs, max(1, pending.count)))
        var outcome = Outcome(done: kept, failed: 0, interrupted: 0)
        let jobs = self.jobs
        await withTaskGroup(of: CellOutcome.self) { group in
            var queue = pending[...]
            var active = 0
            while active < jobs, let cell = queue.popFirst() {
                group.addTask { await self.runCellRecordingFailure(cell) }
                active += 1
            }
            while let result = await group.next() {
                active -= 1
                switch result {
                case .kept, .done: outcome.done += 1
                case .failed: outcome.failed += 1
                case .interrupted: outcome.interrupted += 1
                }
                if Task.isCancelled {
                    outcome.interrupted += queue.count
                    queue = []
                } else if let cell = queue.popFirst() {
                    group.addTask { await self.runCellRecordingFailure(cell) }
                    active += 1
                }
            }
        }
        let collector = SweepCollector(plan: plan, directory: directory)
        try collector.write(collector.records())
        progress.finish(folder: directory, interrupted: outcome.interrupted > 0)
        return outcome
    }

    /// Runs one cell unless it already finished (`--cell I`).
    /// - Returns: what happened.
    /// - Throws: ``SweepError`` `.output` or `.launch` when the cell's folder cannot be
    ///   prepared or its run cannot start (a run that fails is an outcome, not an error).
    public func runCell(_ cell: SweepCell) async throws(SweepError) -> CellOutcome {
        if try isFinished(cell) { return .kept }
        let folder = folder(of: cell)
        if let stale = try SweepCellState.read(folder: folder), stale.status == .running {
            let leftovers = Self.leftoverProcesses(of: stale, folder: folder)
            if !leftovers.isEmpty {
                progress.note("cell \(cell.index) \(cell.name): stopping the processes its earlier run left (pids \(leftovers.map(String.init).joined(separator: ", ")))")
                SweepChildProcess.terminate(leftovers)
            }
        }
        do {
            if FileManager.default.fileExists(atPath: folder) { try FileManager.default.removeItem(atPath: folder) }
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try cell.yaml.write(toFile: folder + "/cell.yaml", atomically: true, encoding: .utf8)
        } catch {
            throw SweepError(.output, "cell \(cell.index) \(cell.name): cannot prepare \(folder): \(error)")
        }
        let started = ContinuousClock.now
        progress.cellStarted(cell)
        let child: SweepChildProcess
        do {
            child = try SweepChildProcess(
                executable: executable, arguments: ["run", folder + "/cell.yaml", "--out", folder], logPath: folder + "/run.log")
        } catch {
            progress.cellFinished(cell, seconds: 0, error: error.message, accuracy: nil)
            throw error
        }
        var state = SweepCellState(
            index: cell.index, name: cell.name, hash: cell.hash, status: .running, pid: child.processIdentifier,
            started: SweepCellState.now())
        do {
            try state.write(folder: folder)
        } catch {
            // Without its bookkeeping a resumed sweep could not find this run: stop it.
            child.terminateTree()
            progress.cellFinished(cell, seconds: SweepProgress.seconds(since: started), error: error.message, accuracy: nil)
            throw error
        }
        let exit = await child.wait()
        let seconds = SweepProgress.seconds(since: started)
        if Task.isCancelled {
            progress.cellFinished(cell, seconds: seconds, error: "stopped by a signal", accuracy: nil)
            return .interrupted
        }
        state.pid = nil
        state.finished = SweepCellState.now()
        state.seconds = seconds
        var failure: String?
        var accuracy: Double?
        if exit.status == 0, !exit.signaled {
            do {
                let summary = try SweepCollector.readSummary(folder: folder)
                accuracy = summary.finalAccuracy
                if summary.status != "complete" { failure = "the run exited 0 but its summary says \(summary.status)" }
            } catch {
                failure = "the run exited 0 but \(error)"
            }
        } else {
            failure = "fedarena run: \(exit.description): \(Self.lastLines(of: folder + "/run.log"))"
            state.exitCode = Int(exit.status)
        }
        state.status = failure == nil ? .done : .failed
        state.error = failure
        try state.write(folder: folder)
        progress.cellFinished(cell, seconds: seconds, error: failure, accuracy: accuracy)
        return failure.map(CellOutcome.failed) ?? .done(seconds: seconds)
    }

    /// The live processes of a cell's run that a killed sweep left behind: the `fedarena run`
    /// (recognised by the cell folder in its command line) with its descendants, and the
    /// client and adversary processes its `processes.json` lists (recognised by the run's
    /// endpoint or folder in their command line, and by a parent that is the run or gone).
    static func leftoverProcesses(of stale: SweepCellState, folder: String) -> [Int32] {
        var found = [Int32]()
        let run = stale.pid.flatMap { pid in
            SweepChildProcess.isAlive(pid) && SweepChildProcess.commandLine(of: pid)?.contains(folder) == true ? pid : nil
        }
        if let run { found += [run] + SweepChildProcess.descendants(of: run) }
        guard let data = FileManager.default.contents(atPath: folder + "/processes.json"),
            let record = try? JSONDecoder().decode(RunProcesses.self, from: data)
        else { return found }
        let candidates = record.clients.map { ($0, "--connect \(record.endpoint)") } + (record.adversary.map { [($0, folder)] } ?? [])
        for (pid, mark) in candidates where !found.contains(pid) && SweepChildProcess.isAlive(pid) {
            guard SweepChildProcess.commandLine(of: pid)?.contains(mark) == true else { continue }
            let parent = SweepChildProcess.parentID(of: pid)
            let orphaned = parent.map { $0 == 1 || !(SweepChildProcess.isAlive($0) && SweepChildProcess.commandLine(of: $0)?.contains("fedarena") == true) } ?? true
            if parent == record.coordinator || orphaned { found.append(pid) }
        }
        return found
    }

    /// ``runCell(_:)`` with its errors recorded as the cell's failure.
    private func runCellRecordingFailure(_ cell: SweepCell) async -> CellOutcome {
        do {
            return try await runCell(cell)
        } catch {
            let folder = folder(of: cell)
            var state = SweepCellState(index: cell.index, name: cell.name, hash: cell.hash, status: .failed, started: SweepCellState.now())
            state.error = error.message
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                try state.write(folder: folder)
            } catch {
                progress.note("cell \(cell.index) \(cell.name): cannot record its failure: \(error)")
            }
            return .failed(error.message)
        }
    }

    /// `sweep.json`: the sweep's name, file, axes and cells, so that a folder says what it holds.
    private func writeManifest() throws(SweepError) {
        let manifest: ConfigValue = .object([
            "name": .string(plan.file.name),
            "source": .string(URL(fileURLWithPath: plan.file.source).standardizedFileURL.path),
            "axes": .array(plan.file.axes.map { .string($0.keyPath) }),
            "cells": .array(plan.cells.map { cell in
                .object(["index": .int(cell.index), "name": .string(cell.name), "hash": .string(cell.hash), "role": .string(cell.role.rawValue)])
            }),
        ])
        do {
            try JSONText.write(manifest, to: directory + "/sweep.json")
        } catch {
            throw SweepError(.output, "\(error)")
        }
    }

    /// The last non-empty lines of a log (up to 3, joined by ` | `, at most 600 characters).
    static func lastLines(of path: String) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "(no output in \(path))" }
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let tail = lines.suffix(3).joined(separator: " | ")
        if tail.isEmpty { return "(no output in \(path))" }
        return tail.count > 600 ? "..." + String(tail.suffix(600)) : tail
    }
}
