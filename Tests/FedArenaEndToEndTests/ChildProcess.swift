import Foundation
import Testing

/// Waiting for child processes without blocking a Swift concurrency thread.
///
/// Swift Testing runs tests as tasks on the cooperative pool, which has one thread per core
/// (two on CI). A test that blocks a thread in `waitUntilExit`, `Thread.sleep` or
/// `readDataToEndOfFile` while its child runs for a minute starves every other test's tasks:
/// their polls and timeouts then fire late or never, and tests fail for reasons that are not
/// theirs. Every wait here suspends instead.
enum ChildProcess {
    /// Suspends until `process` has exited or `timeout` seconds have passed; `true` if it exited.
    static func waitForExit(_ process: Process, timeout: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline {
            try? await Task.sleep(for: .milliseconds(25))
        }
        return !process.isRunning
    }

    /// Waits for `process`; if it outlives `timeout`, terminates it and records an issue naming `what`.
    static func finish(_ process: Process, timeout: Double, what: String) async {
        if await waitForExit(process, timeout: timeout) { return }
        process.terminate()
        Issue.record("\(what) did not finish within \(timeout) s")
        if !(await waitForExit(process, timeout: 10)) { kill(process.processIdentifier, SIGKILL) }
        _ = await waitForExit(process, timeout: 10)
    }

    /// Polls `condition` every 10 ms on a thread of its own and runs `action` there the moment
    /// it holds.
    ///
    /// Not on the cooperative pool: a test that must act at the right moment (signal a run
    /// after its second cell, kill a coordinator after its fourth round) would otherwise act
    /// only when the pool has a thread free, which on a loaded two-core machine can be after
    /// the child has finished.
    /// - Returns: `true` if the condition held (and `action` ran) before `timeout` seconds.
    static func when(
        _ condition: @escaping @Sendable () -> Bool, timeout: Double, do action: @escaping @Sendable () -> Void = {}
    ) async -> Bool {
        await withCheckedContinuation { continuation in
            let deadline = Date().addingTimeInterval(timeout)
            let thread = Thread {
                while !condition() {
                    if Date() >= deadline {
                        continuation.resume(returning: false)
                        return
                    }
                    usleep(10_000)
                }
                action()
                continuation.resume(returning: true)
            }
            thread.start()
        }
    }

    /// The number of lines in the text file at `path` (0 if it cannot be read yet).
    static func lineCount(_ path: String) -> Int {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return 0 }
        return text.split(separator: "\n").count
    }

    /// Runs `executable ARGUMENTS` to completion, standard output and error together.
    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, timeout: Double = 600
    ) async throws -> (status: Int32, output: String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fedarena-child-\(getpid())-\(UUID().uuidString).txt").path
        try #require(FileManager.default.createFile(atPath: path, contents: nil), "cannot create \(path)")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        await finish(process, timeout: timeout, what: URL(fileURLWithPath: executable).lastPathComponent + " " + arguments.joined(separator: " "))
        let output = try String(contentsOfFile: path, encoding: .utf8)
        return (process.terminationStatus, output)
    }
}
