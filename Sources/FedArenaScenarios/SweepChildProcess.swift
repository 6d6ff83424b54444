import Foundation

/// A cell's `fedarena run` process, started by the sweep, with its output in a log file.
///
/// The run starts its own client (and adversary) processes; stopping a cell stops that whole
/// tree by process ID: the run and every descendant found through `/proc` before the first
/// signal (a run killed first would leave its clients to the init process).
final class SweepChildProcess: @unchecked Sendable {
    /// How a process ended.
    struct Exit: Sendable, Equatable {
        /// The exit status, or the signal number when killed.
        var status: Int32
        /// Whether a signal ended it.
        var signaled: Bool

        /// `exit status N` or `killed by signal N`.
        var description: String { signaled ? "killed by signal \(status)" : "exit status \(status)" }
    }

    private let process: Process
    private let lock = NSLock()
    private var exit: Exit?
    private var waiter: CheckedContinuation<Exit, Never>?

    /// The OS process ID.
    var processIdentifier: Int32 { process.processIdentifier }

    /// Starts `executable arguments` with one OpenBLAS thread, standard output and error in
    /// `logPath`.
    /// - Throws: ``SweepError`` `.launch` naming the executable.
    init(executable: String, arguments: [String], logPath: String) throws(SweepError) {
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_NUM_THREADS"] = "1"
        process.environment = environment
        guard FileManager.default.createFile(atPath: logPath, contents: nil), let handle = FileHandle(forWritingAtPath: logPath) else {
            throw SweepError(.output, "cannot create \(logPath)")
        }
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        process.terminationHandler = { [weak self] finished in
            let ended = Exit(status: finished.terminationStatus, signaled: finished.terminationReason == .uncaughtSignal)
            self?.finish(ended)
        }
        do {
            try process.run()
        } catch {
            throw SweepError(.launch, "cannot start \(executable) \(arguments.joined(separator: " ")): \(error)")
        }
        try? handle.close()
    }

    private func finish(_ ended: Exit) {
        lock.lock()
        exit = ended
        let continuation = waiter
        waiter = nil
        lock.unlock()
        continuation?.resume(returning: ended)
    }

    /// Waits for the process to end; cancelling the waiting task stops the process tree.
    func wait() async -> Exit {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Exit, Never>) in
                lock.lock()
                if let exit {
                    lock.unlock()
                    continuation.resume(returning: exit)
                } else {
                    waiter = continuation
                    lock.unlock()
                }
            }
        } onCancel: {
            self.terminateTree()
        }
    }

    /// Stops the run and its descendants: SIGTERM, then SIGKILL after `grace` seconds.
    func terminateTree(grace: Double = 2) {
        Self.terminateTree(root: process.processIdentifier, grace: grace)
    }

    /// Stops `root` and its descendants (as found now): SIGTERM, then SIGKILL after `grace`
    /// seconds for those still alive.
    static func terminateTree(root: Int32, grace: Double = 2) {
        terminate([root] + descendants(of: root), grace: grace)
    }

    /// Stops the processes `pids`: SIGTERM, then SIGKILL after `grace` seconds for those still
    /// alive.
    static func terminate(_ tree: [Int32], grace: Double = 2) {
        guard !tree.isEmpty else { return }
        for pid in tree { kill(pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(grace)
        while tree.contains(where: isAlive), Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        for pid in tree where isAlive(pid) { kill(pid, SIGKILL) }
    }

    /// Whether `pid` is a live process (not a zombie).
    static func isAlive(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        return fields(ofStat: stat).first != "Z"
    }

    /// The command line of `pid` (arguments joined by spaces), or `nil` when unreadable.
    static func commandLine(of pid: Int32) -> String? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else { return nil }
        return String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
    }

    /// The parent process ID of `pid`, or `nil` when unreadable.
    static func parentID(of pid: Int32) -> Int32? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return nil }
        let rest = fields(ofStat: stat)
        return rest.count > 1 ? Int32(rest[1]) : nil
    }

    /// Every process whose chain of parents leads to `root`, found through `/proc` (empty
    /// where there is no `/proc`).
    static func descendants(of root: Int32) -> [Int32] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var parent = [Int32: Int32]()
        for entry in entries {
            guard let pid = Int32(entry),
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8)
            else { continue }
            let rest = fields(ofStat: stat)
            if rest.count > 1, let ppid = Int32(rest[1]) { parent[pid] = ppid }
        }
        var found = [Int32]()
        var frontier = [root]
        while let next = frontier.popLast() {
            let children = parent.filter { $0.value == next }.map(\.key).sorted()
            found += children
            frontier += children
        }
        return found
    }

    /// The fields of `/proc/PID/stat` after the command name (which may hold spaces and
    /// parentheses): state, parent ID, ...
    private static func fields(ofStat stat: String) -> [String] {
        guard let close = stat.lastIndex(of: ")") else { return [] }
        return stat[stat.index(after: close)...].split(separator: " ").map(String.init)
    }
}
