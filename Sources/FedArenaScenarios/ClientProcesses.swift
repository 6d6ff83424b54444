import FedArenaRuntime
import Foundation
import Subprocess
import Synchronization
import SystemPackage

/// The child processes of a local run (client processes, the adversary), started and reaped
/// with swift-subprocess.
///
/// Each child runs `fedarena ...` with one OpenBLAS thread, its standard output and error in a
/// log file, its own process group (so a terminal's Ctrl-C reaches only the coordinator,
/// which then stops the children in order) and `--parent-pid` naming this process: the child
/// asks the kernel to kill it when this process dies (``ParentWatch``), so nothing outlives a
/// coordinator that is killed with SIGKILL.
///
/// Every child is owned by a task that runs `Subprocess.run` until the child exits. Stopping
/// (``terminate()``) cancels those tasks: swift-subprocess then sends SIGTERM, waits two
/// seconds, sends SIGKILL, and reaps the child before the task ends, so no zombie is left.
/// swift-subprocess spawns from one long-lived worker thread, which matters for
/// `PR_SET_PDEATHSIG`: that signal fires when the *thread* that spawned the child exits, and
/// Foundation's `Process` spawns from whichever pool thread runs the caller.
public final class ClientProcesses: Sendable {
    /// One child to start.
    public struct Launch: Sendable {
        /// A name for logs and errors (`client process 3`).
        public var name: String
        /// The arguments after the executable.
        public var arguments: [String]
        /// The log file for standard output and error (created or truncated).
        public var logPath: String

        /// Describes a child.
        /// - Parameters:
        ///   - name: A name for logs and errors.
        ///   - arguments: The arguments after the executable.
        ///   - logPath: The log file.
        public init(name: String, arguments: [String], logPath: String) {
            self.name = name
            self.arguments = arguments
            self.logPath = logPath
        }
    }

    /// A started child.
    public struct Child: Sendable, Equatable {
        /// Its name.
        public var name: String
        /// Its process identifier.
        public var processIdentifier: Int32
    }

    /// How a child ended.
    public enum Exit: Sendable, Equatable, CustomStringConvertible {
        /// It exited with this status.
        case exited(Int32)
        /// A signal ended it.
        case signaled(Int32)
        /// Its owner could not wait for it (a swift-subprocess monitoring error).
        case unknown(String)

        public var description: String {
            switch self {
            case .exited(let code): "exited with status \(code)"
            case .signaled(let signal): "ended by signal \(signal)"
            case .unknown(let reason): "exit unknown: \(reason)"
            }
        }
    }

    /// The started children, in launch order.
    public let children: [Child]
    private let owners: [Task<Exit, Never>]
    private let exits: ExitTable

    /// How each child ended, shared by the owner tasks.
    final class ExitTable: Sendable {
        let entries: Mutex<[Exit?]>
        init(count: Int) { entries = Mutex(Array(repeating: nil, count: count)) }
        func withLock<R>(_ body: (inout [Exit?]) -> R) -> R { entries.withLock { body(&$0) } }
    }

    /// How long a child has between SIGTERM and SIGKILL.
    static let gracePeriod: Duration = .seconds(2)

    private init(children: [Child], owners: [Task<Exit, Never>], exits: ExitTable) {
        self.children = children
        self.owners = owners
        self.exits = exits
    }

    /// Starts every child.
    /// - Parameters:
    ///   - launches: The children.
    ///   - executable: The `fedarena` executable.
    /// - Returns: The running children.
    /// - Throws: ``RuntimeError`` `.launch` naming the child and the reason when one cannot
    ///   start (a log file that cannot be created, an executable that cannot run); the ones
    ///   already started are stopped and reaped first.
    public static func start(_ launches: [Launch], executable: String) async throws(RuntimeError) -> ClientProcesses {
        var children = [Child]()
        var owners = [Task<Exit, Never>]()
        let exits = ExitTable(count: launches.count)
        for (position, launch) in launches.enumerated() {
            do throws(RuntimeError) {
                let (pid, owner) = try await spawn(launch, executable: executable, position: position, exits: exits)
                children.append(Child(name: launch.name, processIdentifier: pid))
                owners.append(owner)
            } catch {
                await ClientProcesses(children: children, owners: owners, exits: exits).terminate()
                throw error
            }
        }
        return ClientProcesses(children: children, owners: owners, exits: exits)
    }

    /// Starts no child (a coordinator whose clients run elsewhere).
    public static var none: ClientProcesses { ClientProcesses(children: [], owners: [], exits: ExitTable(count: 0)) }

    private static func spawn(
        _ launch: Launch, executable: String, position: Int, exits: ExitTable
    ) async throws(RuntimeError) -> (Int32, Task<Exit, Never>) {
        let log: FileDescriptor
        do {
            log = try FileDescriptor.open(
                FilePath(launch.logPath), .writeOnly, options: [.create, .truncate, .append, .closeOnExec],
                permissions: [.ownerReadWrite, .groupRead, .otherRead])
        } catch {
            throw RuntimeError(.launch, "cannot create the log file \(launch.logPath) of \(launch.name): \(error)")
        }
        var options = PlatformOptions()
        options.processGroupID = 0  // its own process group
        options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: gracePeriod)]
        let configuration = Configuration(
            executable: .path(FilePath(executable)), arguments: Arguments(launch.arguments),
            environment: .inherit.updating(["OPENBLAS_NUM_THREADS": "1"]), platformOptions: options)
        let (started, continuation) = AsyncStream.makeStream(of: Result<Int32, RuntimeError>.self)
        let name = launch.name
        let owner = Task<Exit, Never> {
            let exit: Exit
            do {
                let result = try await Subprocess.run(
                    configuration, input: .none, output: .fileDescriptor(log, closeAfterSpawningProcess: true),
                    error: .combinedWithOutput
                ) { execution in
                    continuation.yield(.success(execution.processIdentifier.value))
                    continuation.finish()
                }
                exit = switch result.terminationStatus {
                case .exited(let code): .exited(code)
                case .signaled(let signal): .signaled(signal)
                }
            } catch {
                // Never started (the stream still waits) or could not be monitored.
                continuation.yield(.failure(RuntimeError(.launch, "cannot start \(name) (\(executable)): \(error)")))
                continuation.finish()
                exit = .unknown("\(error)")
            }
            exits.withLock { $0[position] = exit }
            return exit
        }
        for await outcome in started {
            switch outcome {
            case .success(let pid): return (pid, owner)
            case .failure(let error): throw error
            }
        }
        // The caller was cancelled before the child reported: stop and reap it, whatever it is doing.
        owner.cancel()
        _ = await owner.value
        throw RuntimeError(.launch, "cannot start \(name) (\(executable)): cancelled before it started")
    }

    /// The OS process identifiers, in launch order.
    public var processIdentifiers: [Int32] { children.map(\.processIdentifier) }

    /// How each child ended so far (`nil` while it runs), in launch order.
    public var exitStatuses: [Exit?] { exits.withLock { $0 } }

    /// Waits up to `timeout` for every child to exit on its own (less if the calling task is
    /// cancelled: run shutdown work in a task that is not).
    /// - Parameter timeout: The longest wait.
    /// - Returns: Whether all of them exited.
    @discardableResult
    public func waitForExit(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while exits.withLock({ $0.contains(nil) }) {
            if ContinuousClock.now >= deadline { return false }
            do {
                try await Task.sleep(for: .milliseconds(20))
            } catch {
                break
            }
        }
        return !exits.withLock { $0.contains(nil) }
    }

    /// Stops the children still running (SIGTERM, SIGKILL after two seconds) and waits until
    /// every one is reaped. Idempotent.
    public func terminate() async {
        for owner in owners { owner.cancel() }
        for owner in owners { _ = await owner.value }
    }
}
