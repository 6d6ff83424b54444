import FedArenaScenarios
import Foundation
import Testing

/// Runs the built `fedarena` executable for end-to-end tests.
struct FedArenaProcess {
    struct Finished {
        var exitCode: Int32
        var output: String
        var folder: String

        func summary() throws -> [String: Any] {
            let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/summary.json"))
            return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        }

        func metricsLines() throws -> [[String: Any]] {
            let text = try String(contentsOfFile: folder + "/metrics.jsonl", encoding: .utf8)
            return try text.split(separator: "\n").map {
                try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
            }
        }
    }

    struct Running {
        var process: Process
        var folder: String
        var outputPath: String

        /// The run's `processes.json` (PIDs and the bound endpoint), once the launcher wrote it.
        func processes(timeout: Double) async throws -> RunProcesses {
            let path = folder + "/processes.json"
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if let data = FileManager.default.contents(atPath: path), let record = try? JSONDecoder().decode(RunProcesses.self, from: data) {
                    return record
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw ProcessesMissing(path: path)
        }

        struct ProcessesMissing: Error { var path: String }

        func wait(timeout: Double) async throws -> Finished {
            await ChildProcess.finish(process, timeout: timeout, what: "fedarena")
            let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            return Finished(exitCode: process.terminationStatus, output: output, folder: folder)
        }
    }

    /// The `fedarena` binary built next to the test bundle.
    static var executable: String {
        let testBinary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: testBinary).deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("fedarena").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return "fedarena"
    }

    static func start(scenario: String, name: String, overrides: [String] = [], environment: [String: String] = [:]) throws -> Running {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("fedarena-e2e-\(getpid())-\(name)")
        try? FileManager.default.removeItem(at: base)
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        let file = base.appendingPathComponent("scenario.yaml").path
        try scenario.write(toFile: file, atomically: true, encoding: .utf8)
        let folder = base.appendingPathComponent("run").path
        let outputPath = base.appendingPathComponent("output.txt").path
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["run", file, "--out", folder] + overrides.flatMap { ["--set", $0] }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return Running(process: process, folder: folder, outputPath: outputPath)
    }

    static func run(scenario: String, name: String, overrides: [String] = [], environment: [String: String] = [:]) async throws -> Finished {
        try await start(scenario: scenario, name: name, overrides: overrides, environment: environment).wait(timeout: 600)
    }

    static func waitForLines(in path: String, count: Int, timeout: Double, then action: @escaping @Sendable () -> Void = {}) async throws {
        if await ChildProcess.when({ ChildProcess.lineCount(path) >= count }, timeout: timeout, do: action) { return }
        Issue.record("\(path) did not reach \(count) lines within \(timeout) s")
    }

    /// Starts `fedarena ARGUMENTS` with its output in a file under a fresh folder for `name`.
    static func startCommand(_ arguments: [String], name: String, environment: [String: String] = [:]) throws -> Running {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("fedarena-e2e-\(getpid())-\(name)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        let outputPath = base.appendingPathComponent("output-\(UUID().uuidString).txt").path
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return Running(process: process, folder: base.path, outputPath: outputPath)
    }

    /// A folder for a test's files (emptied first).
    static func folder(_ name: String) throws -> String {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("fedarena-e2e-\(getpid())-\(name)")
        try? FileManager.default.removeItem(at: base)
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        return base.path
    }

    /// Whether process `pid` exists and is not a zombie (a zombie has exited and only awaits reaping).
    static func isAlive(_ pid: Int32) -> Bool {
        guard Foundation.kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { return false }
        // Field 3, after "pid (comm) ": the state letter.
        let state = stat[stat.index(close, offsetBy: 2)...].prefix(1)
        return state != "Z" && state != "X"
    }

    /// Waits until none of `pids` is alive; returns those still alive after `timeout`.
    static func waitUntilGone(_ pids: [Int32], timeout: Double) async throws -> [Int32] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if !pids.contains(where: isAlive) { return [] }
            try await Task.sleep(for: .milliseconds(50))
        }
        return pids.filter(isAlive)
    }
}

extension RunProcesses {
    /// Every child of the run: client processes, then the adversary.
    var children: [Int32] { clients + (adversary.map { [$0] } ?? []) }
}
