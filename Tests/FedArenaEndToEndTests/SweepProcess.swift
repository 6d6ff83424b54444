import Foundation
import Testing

/// Runs the built `fedarena` binary with any arguments (sweeps, reports) for end-to-end tests.
struct SweepProcess {
    struct Finished {
        var status: Int32
        var output: String

        /// The JSON event lines of a non-terminal sweep.
        func events() -> [[String: Any]] {
            output.split(separator: "\n").compactMap { line in
                guard line.hasPrefix("{") else { return nil }
                return (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
            }
        }

        /// The names of the cells with event `kind`.
        func cells(_ kind: String) -> [String] {
            events().filter { $0["event"] as? String == kind }.compactMap { $0["name"] as? String }
        }
    }

    /// A started process whose output goes to a file.
    struct Running {
        var process: Process
        var outputPath: String

        var pid: Int32 { process.processIdentifier }

        func wait(timeout: Double = 600) async -> Finished {
            await ChildProcess.finish(process, timeout: timeout, what: "fedarena")
            return Finished(status: process.terminationStatus, output: (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "")
        }
    }

    /// A fresh scratch folder for a test.
    static func folder(_ name: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fedarena-e2e-\(getpid())-\(name)").path
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func start(_ arguments: [String], outputPath: String) throws -> Running {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: FedArenaProcess.executable)
        process.arguments = arguments
        try #require(FileManager.default.createFile(atPath: outputPath, contents: nil), "cannot create \(outputPath)")
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return Running(process: process, outputPath: outputPath)
    }

    static func run(_ arguments: [String], outputPath: String, timeout: Double = 600) async throws -> Finished {
        try await start(arguments, outputPath: outputPath).wait(timeout: timeout)
    }

    /// The status in each cell folder's `cell.json`, by folder name.
    static func states(in folder: String) -> [String: String] {
        var result = [String: String]()
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
            guard let data = FileManager.default.contents(atPath: "\(folder)/\(entry)/cell.json"),
                let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
                let status = object["status"] as? String
            else { continue }
            result[entry] = status
        }
        return result
    }

    /// The lines of `cells.jsonl`.
    static func cellRecords(in folder: String) throws -> [[String: Any]] {
        let text = try String(contentsOfFile: folder + "/cells.jsonl", encoding: .utf8)
        return try text.split(separator: "\n").map { try #require((try JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]) }
    }

    /// The live processes that the cells' runs in `folder` recorded in their `processes.json`
    /// (coordinator, clients, adversary) and that still look like theirs (command line).
    static func leftovers(in folder: String) -> [Int32] {
        var alive = [Int32]()
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
            guard let data = FileManager.default.contents(atPath: "\(folder)/\(entry)/processes.json"),
                let record = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
            else { continue }
            let endpoint = record["endpoint"] as? String ?? "?"
            var pids = [(record["coordinator"] as? Int).map { (Int32($0), "\(folder)/\(entry)") }]
            pids += ((record["clients"] as? [Int]) ?? []).map { (Int32($0), "--connect \(endpoint)") }
            pids.append((record["adversary"] as? Int).map { (Int32($0), "\(folder)/\(entry)") })
            for case let (pid, mark)? in pids where processes(mentioning: mark).contains(pid) { alive.append(pid) }
        }
        return alive
    }

    /// Processes (other than the test's own) whose command line mentions `text`, read from /proc.
    static func processes(mentioning text: String) -> [Int32] {
        var found = [Int32]()
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), pid != getpid(),
                let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"), !data.isEmpty
            else { continue }
            let line = String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
            if line.contains(text), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")"), !stat[stat.index(after: close)...].hasPrefix(" Z")
            {
                found.append(pid)
            }
        }
        return found
    }
}
