import Foundation
import Testing

/// The processes a deployment test starts, each with its standard output and error in files
/// (not a terminal, so `fedarena` logs JSON lines); ``stopAll()`` ends the ones still running
/// — call it in a `defer`, so a failing test leaves none behind.
///
/// Each process starts as a launcher would start it: its own process group (so stopping it
/// reaches the children of a script too, by the group id, which is its PID), every signal
/// unblocked and SIGINT/SIGTERM/SIGHUP/SIGQUIT/SIGPIPE at their defaults. (Foundation's
/// `Process` passes on the calling thread's signal mask, and the threads of a test runner
/// block nearly every signal, so a `bash` started that way could never be stopped by SIGTERM.)
final class StartedProcesses {
    /// One started process.
    final class Started {
        let name: String
        let pid: pid_t
        let stdoutPath: String
        let stderrPath: String
        private var status: Int32?

        init(name: String, pid: pid_t, stdoutPath: String, stderrPath: String) {
            self.name = name
            self.pid = pid
            self.stdoutPath = stdoutPath
            self.stderrPath = stderrPath
        }

        var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
        var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

        /// The exit status once it has exited (128 + the signal for a process a signal ended).
        var exitStatus: Int32? {
            if status == nil {
                var raw: Int32 = 0
                if waitpid(pid, &raw, WNOHANG) == pid {
                    // WIFEXITED: the low 7 bits are 0 and the status is in bits 8-15; else the signal.
                    status = raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
                }
            }
            return status
        }

        var isRunning: Bool { exitStatus == nil }
    }

    private(set) var started: [Started] = []
    private let folder: String

    /// Keeps the output files in `folder`.
    init(folder: String) { self.folder = folder }

    deinit { stopAll() }

    /// The environment of the test process without any `FEDARENA_*` variable (so that only
    /// what a test sets reaches the commands), with one BLAS thread, plus `extra`.
    static func environment(_ extra: [String: String]) -> [String: String] {
        ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("FEDARENA_") }
            .merging(["OPENBLAS_NUM_THREADS": "1"]) { $1 }
            .merging(extra) { $1 }
    }

    /// A failed start.
    struct SpawnFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Starts `executable` with `arguments` and `environment`.
    /// - Throws: ``SpawnFailure`` naming the executable and the error.
    @discardableResult
    func start(_ name: String, _ executable: String, _ arguments: [String], environment: [String: String]) throws -> Started {
        let stdoutPath = folder + "/\(name).out"
        let stderrPath = folder + "/\(name).err"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else { throw SpawnFailure(description: "cannot start \(executable): \(String(cString: strerror(result)))") }
        let entry = Started(name: name, pid: pid, stdoutPath: stdoutPath, stderrPath: stderrPath)
        started.append(entry)
        return entry
    }

    /// Waits for `entry` to exit, up to `timeout` seconds (then records an issue and stops it).
    /// - Returns: Its exit status.
    @discardableResult
    func wait(_ entry: Started, timeout: Double) async throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while entry.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if entry.isRunning {
            Issue.record("\(entry.name) did not finish within \(timeout) s; stderr:\n\(entry.stderr)")
            stop(entry)
        }
        return entry.exitStatus ?? -1
    }

    /// Ends every started process still running, with its process group (a script's
    /// children), by the group id, which is the started process's PID.
    func stopAll() {
        for entry in started { stop(entry) }
    }

    private func stop(_ entry: Started) {
        // Only while the leader runs (or is an unreaped zombie): its PID, the group id, cannot
        // have been reused by then. The signal reaches a script's children in the group too.
        guard entry.isRunning else { return }
        kill(-entry.pid, SIGTERM)
        let deadline = Date().addingTimeInterval(5)
        while entry.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        kill(-entry.pid, SIGKILL)
        while entry.isRunning { Thread.sleep(forTimeInterval: 0.01) }
    }

    /// The JSON objects of a log, one per line; a line that is not a JSON object fails the test.
    static func jsonLines(_ text: String, of name: String) -> [[String: Any]] {
        text.split(separator: "\n").compactMap { line in
            let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
            if object == nil { Issue.record("\(name): a log line is not a JSON object: \(line)") }
            return object
        }
    }
}
