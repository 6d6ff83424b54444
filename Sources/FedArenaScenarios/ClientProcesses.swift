import FedArenaRuntime
import Foundation

/// The client processes a local run starts: `fedarena client --connect ENDPOINT
/// --process-index N`, one OpenBLAS thread each, output in `logs/client-N.log`.
public final class ClientProcesses: @unchecked Sendable {
    private let processes: [Process]
    private let lock = NSLock()

    private init(processes: [Process]) { self.processes = processes }

    /// Starts `count` client processes.
    /// - Throws: ``RuntimeError`` `.launch` naming the executable when one cannot start (the
    ///   ones already started are stopped).
    public static func start(count: Int, executable: String, endpoint: String, logDirectory: String) throws(RuntimeError) -> ClientProcesses {
        var started = [Process]()
        for index in 0..<count {
            do {
                started.append(try launch(
                    executable, ["client", "--connect", endpoint, "--process-index", String(index)],
                    logPath: "\(logDirectory)/client-\(index).log", what: "client process \(index)"))
            } catch {
                ClientProcesses(processes: started).terminate()
                throw error
            }
        }
        return ClientProcesses(processes: started)
    }

    /// Starts the adversary process of a colluding attack: `fedarena adversary SCENARIO --bind ENDPOINT`.
    /// - Throws: ``RuntimeError`` `.launch` when it cannot start.
    public static func startAdversary(executable: String, scenario: String, endpoint: String, logPath: String) throws(RuntimeError) -> ClientProcesses {
        ClientProcesses(processes: [
            try launch(executable, ["adversary", scenario, "--bind", endpoint], logPath: logPath, what: "the adversary process")
        ])
    }

    /// Starts one process of `executable` with one OpenBLAS thread, output in `logPath`.
    private static func launch(_ executable: String, _ arguments: [String], logPath: String, what: String) throws(RuntimeError) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_NUM_THREADS"] = "1"
        process.environment = environment
        FileManager.default.createFile(atPath: logPath, contents: nil)
        if let handle = FileHandle(forWritingAtPath: logPath) {
            process.standardOutput = handle
            process.standardError = handle
        }
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw RuntimeError(.launch, "cannot start \(what) (\(executable)): \(error)")
        }
        return process
    }

    /// The OS process identifiers, in process-index order.
    public var processIdentifiers: [Int32] { processes.map(\.processIdentifier) }

    /// Waits up to `timeoutSeconds` for every process to exit on its own.
    public func waitForExit(timeoutSeconds: Double) {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while processes.contains(where: \.isRunning), Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    /// Stops the processes that are still running (SIGTERM, then SIGKILL after 2 s).
    public func terminate() {
        lock.lock()
        defer { lock.unlock() }
        for process in processes where process.isRunning { process.terminate() }
        let deadline = Date().addingTimeInterval(2)
        while processes.contains(where: \.isRunning), Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
