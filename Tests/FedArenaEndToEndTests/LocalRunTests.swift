import FedArenaCore
import FedArenaScenarios
import FedArenaWire
import Foundation
import Testing

/// End-to-end runs of the built `fedarena` binary: one coordinator process, several client
/// processes, real ZeroMQ over loopback, real Fashion-MNIST.
@Suite(.serialized) struct LocalRunTests {
    /// A small scenario that runs in seconds in a debug build.
    static let scenario = """
        name: e2e
        seed: 11
        dataset: { name: fashion-mnist, partition: { kind: iid }, train_subset: 4000, test_subset: 1000, root_samples: 100 }
        model: { kind: mlp, hidden: [32] }
        training: { rounds: 5, local_epochs: 1, batch_size: 32, lr: 0.1 }
        clients: { count: 8, per_round: 8, processes: 4 }
        transport: { endpoint: "tcp://127.0.0.1:0", round_timeout_s: 20 }
        """

    @Test func runWritesTheContractOutputsAndLearns() async throws {
        let run = try await FedArenaProcess.run(scenario: Self.scenario, name: "basic")
        #expect(run.exitCode == 0, "\(run.output)")
        let summary = try run.summary()
        #expect(summary["scenario"] as? String == "e2e")
        #expect(summary["rounds_completed"] as? Int == 5)
        let accuracy = try #require(summary["final_accuracy"] as? Double)
        #expect(accuracy > 0.6, "final accuracy \(accuracy)")
        #expect((summary["accuracy_by_round"] as? [Any])?.count == 5)
        #expect((summary["model_sha256"] as? String)?.count == 64)
        #expect(summary["dropouts"] as? Int == 0)
        for key in ["final_loss", "wall_seconds", "seconds_per_round_median", "seed", "attack", "detection"] {
            #expect(summary.keys.contains(key), "summary.json lacks \(key)")
        }
        let lines = try run.metricsLines()
        #expect(lines.count == 5)
        #expect((lines.first?["accepted"] as? [Any])?.count == 8)
        let npy = try Data(contentsOf: URL(fileURLWithPath: run.folder + "/model-final.npy"))
        #expect(npy.prefix(6) == Data([0x93]) + Data("NUMPY".utf8))
        // MLP 784-32-10: 784*32 + 32 + 32*10 + 10 parameters, float32, after a 128-byte header.
        let expectedBytes: Int = 128 + 4 * (784 * 32 + 32 + 32 * 10 + 10)
        #expect(npy.count == expectedBytes)
        #expect(FileManager.default.fileExists(atPath: run.folder + "/scenario.yaml"))
        #expect(FileManager.default.fileExists(atPath: run.folder + "/logs/client-3.log"))
    }

    @Test func finalModelDoesNotDependOnTheProcessCount() async throws {
        let two = try await FedArenaProcess.run(scenario: Self.scenario, name: "p2", overrides: ["clients.processes=2"])
        let eight = try await FedArenaProcess.run(scenario: Self.scenario, name: "p8", overrides: ["clients.processes=8"])
        #expect(two.exitCode == 0 && eight.exitCode == 0, "\(two.output)\n\(eight.output)")
        let first = try #require(try two.summary()["model_sha256"] as? String)
        let second = try #require(try eight.summary()["model_sha256"] as? String)
        #expect(first == second)
    }

    @Test func compressedUpdatesWithErrorFeedbackAreSmallerAndDoNotDependOnTheProcessCount() async throws {
        let int8 = ["transport.compression=int8", "transport.compression_block=256"]
        let two = try await FedArenaProcess.run(scenario: Self.scenario, name: "int8-p2", overrides: int8 + ["clients.processes=2"])
        let five = try await FedArenaProcess.run(scenario: Self.scenario, name: "int8-p5", overrides: int8 + ["clients.processes=5"])
        #expect(two.exitCode == 0 && five.exitCode == 0, "\(two.output)\n\(five.output)")
        let first = try #require(try two.summary()["model_sha256"] as? String)
        #expect(try five.summary()["model_sha256"] as? String == first)
        // MLP 784-32-10: d = 25,450; an int8 UPDATE carries 100 scales and d codes instead of 4 d
        // bytes: 16 header + 40 fields + cvec (1 + 4 + 4 + 400 + 25,450) + 4 metric count + 3 flags.
        let perUpdate: Int = 16 + 40 + (1 + 4 + 4 + 4 * 100 + 25_450) + 4 + 3
        let lines = try two.metricsLines()
        #expect(lines.allSatisfy { $0["update_bytes"] as? Int == 8 * perUpdate }, "\(lines.map { $0["update_bytes"] ?? "none" })")
        let accuracy = try #require(try two.summary()["final_accuracy"] as? Double)
        #expect(accuracy > 0.6, "final accuracy \(accuracy) with int8 updates")
    }

    @Test func runSurvivesAKilledClientAndGarbageMessages() async throws {
        let process = try FedArenaProcess.start(
            scenario: Self.scenario, name: "faults", overrides: ["training.rounds=40", "transport.round_timeout_s=3"])
        // Wait for the first round, then send garbage to the port the coordinator bound and
        // kill client process 1 by its PID.
        let processes = try await process.processes(timeout: 120)
        try await FedArenaProcess.waitForLines(in: process.folder + "/metrics.jsonl", count: 1, timeout: 120)
        let context = ZMQContext()
        let intruder = try ZMQClientTransport(context: context, endpoint: processes.endpoint)
        try intruder.send(Array("this is not a FedArena message".utf8))
        try intruder.send([0x46, 0x41, 0x52, 0x4E, 0xFF, 0xFF])
        #expect(kill(processes.clients[1], SIGKILL) == 0, "no client process 1 to kill")
        let result = try await process.wait(timeout: 300)
        intruder.close()
        #expect(result.exitCode == 0, "\(result.output)")
        let summary = try result.summary()
        // 40 rounds leave the test seconds to act after round 1, however fast training is.
        #expect(summary["rounds_completed"] as? Int == 40)
        let dropouts = try #require(summary["dropouts"] as? Int)
        #expect(dropouts >= 2, "process 1 hosts clients 1 and 5; dropouts \(dropouts)")
        #expect((summary["rejected_messages"] as? Int ?? 0) >= 2)
        let rejected = try result.metricsLines().flatMap { ($0["rejected"] as? [[String: Any]]) ?? [] }
        #expect(rejected.contains { ($0["reason"] as? String)?.contains("undecodable") == true })
        let log = try String(contentsOfFile: result.folder + "/coordinator.log", encoding: .utf8)
        #expect(log.contains("rejected a message"))
        let accuracy = try #require(summary["final_accuracy"] as? Double)
        #expect(accuracy > 0.6)
    }

    /// A peer that floods the coordinator with garbage cannot grow its records, logs or memory
    /// without bound, and honest clients keep their deadlines: none drops out.
    @Test func aGarbageFloodIsBoundedAndHonestClientsKeepTheirDeadlines() async throws {
        let process = try FedArenaProcess.start(
            scenario: Self.scenario, name: "flood", overrides: ["training.rounds=12", "transport.round_timeout_s=20"])
        let processes = try await process.processes(timeout: 120)
        try await FedArenaProcess.waitForLines(in: process.folder + "/metrics.jsonl", count: 1, timeout: 120)
        let context = ZMQContext()
        let flooder = try ZMQClientTransport(context: context, endpoint: processes.endpoint)
        var sent = 0
        for index in 0..<200_000 {
            do {
                try flooder.send([0x46, 0x41, 0x52, 0x4E, UInt8(index & 0xFF), 0xFF, 0x00])
                sent += 1
            } catch {
                break  // the send queue is full: the coordinator is not reading as fast as we write
            }
        }
        let result = try await process.wait(timeout: 300)
        flooder.close()
        #expect(result.exitCode == 0, "\(result.output)")
        let summary = try result.summary()
        #expect(summary["rounds_completed"] as? Int == 12)
        #expect(summary["dropouts"] as? Int == 0, "honest clients missed deadlines under the flood")
        #expect((summary["rejected_messages"] as? Int ?? 0) >= 1_000, "sent \(sent)")
        let metricsBytes = try FileManager.default.attributesOfItem(atPath: result.folder + "/metrics.jsonl")[.size] as? Int ?? 0
        let ledgerBytes = try FileManager.default.attributesOfItem(atPath: result.folder + "/ledger.jsonl")[.size] as? Int ?? 0
        #expect(metricsBytes < 200_000 && ledgerBytes < 200_000, "metrics \(metricsBytes) B, ledger \(ledgerBytes) B")
        let log = try String(contentsOfFile: result.folder + "/coordinator.log", encoding: .utf8)
        #expect(log.split(separator: "\n").count < 1_000)
        #expect(log.contains("dropped unread"))
        let lines = try result.metricsLines()
        let counted = lines.reduce(0) { $0 + (($1["rejected_count"] as? Int) ?? 0) }
        #expect(counted == summary["rejected_messages"] as? Int)
        #expect(lines.allSatisfy { (($0["rejected"] as? [Any])?.count ?? 0) <= 20 })
    }

    /// A client process stopped (SIGSTOP) past a deadline and past the transport's heartbeat
    /// timeout is not dropped for the rest of the run: the coordinator closes its connection,
    /// and once continued the process reconnects, says HELLO again (its transport does) and its
    /// clients are accepted again. The run has more rounds than it needs and is stopped by
    /// SIGINT once that is seen, so the test does not depend on how fast rounds go.
    @Test func aStoppedClientProcessRejoinsAfterMissingADeadline() async throws {
        let process = try FedArenaProcess.start(
            scenario: Self.scenario, name: "sigstop", overrides: ["training.rounds=2000", "transport.round_timeout_s=1.5"])
        let processes = try await process.processes(timeout: 120)
        let metrics = process.folder + "/metrics.jsonl"
        try await FedArenaProcess.waitForLines(in: metrics, count: 2, timeout: 120)
        let stopped = processes.clients[1]  // hosts clients 1 and 5
        let port = try #require(processes.endpoint.split(separator: ":").last.flatMap { Int($0) }, "\(processes.endpoint)")
        // The stopped process's port on its connection to the coordinator, which names the
        // coordinator's end of that connection too.
        let clientPort = try #require(Self.connections(of: stopped).first { $0.remote == port }?.local, "no connection to port \(port)")
        #expect(kill(stopped, SIGSTOP) == 0)
        // The coordinator gives up on the silent connection after the heartbeat timeout (15 s)
        // and closes it: its end leaves ESTABLISHED (FIN-WAIT, with the TRAINs the stopped
        // process never read still queued) or is gone.
        let dropped = try await Self.waitFor(timeout: 120) {
            !Self.connections(of: getpid(), ownedOnly: false).contains { $0.local == port && $0.remote == clientPort && $0.state == Self.established }
        }
        #expect(dropped, "the coordinator never closed the stopped process's connection")
        let linesAtContinue = try Self.lineCount(metrics)
        #expect(kill(stopped, SIGCONT) == 0)
        let hosted: Set<Int> = [1, 5]
        let rejoined = try await Self.waitFor(timeout: 180) {
            let text = (try? String(contentsOfFile: metrics, encoding: .utf8)) ?? ""
            let lines = text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            return lines.dropFirst(linesAtContinue).contains { Set(($0["accepted"] as? [Int]) ?? []).isSuperset(of: hosted) }
        }
        #expect(kill(process.process.processIdentifier, SIGINT) == 0)
        let result = try await process.wait(timeout: 120)
        #expect(result.exitCode == 130, "\(result.output)")
        #expect(rejoined, "the stopped process's clients were never accepted again after it was continued")
        let lines = try result.metricsLines()
        let missed = lines.firstIndex { Set(($0["dropped"] as? [Int]) ?? []).isSuperset(of: hosted) }
        #expect(missed != nil, "no round dropped the stopped process's clients")
        let log = try String(contentsOfFile: process.folder + "/coordinator.log", encoding: .utf8)
        #expect(log.contains("process 1 reconnected"), "the continued process did not say HELLO again")
        #expect(!log.contains("HELLO from process 1 refused") && !log.contains("HELLO claiming process 1"), "a re-HELLO was refused")
    }

    /// The `st` column of /proc/net/tcp for ESTABLISHED.
    static let established = "01"

    /// A TCP connection from /proc/net/tcp: ports and the `st` column.
    struct Connection {
        var local: Int
        var remote: Int
        var state: String
        var inode: String
    }

    /// The TCP connections of `pid`'s network namespace; `pid`'s own sockets only when
    /// `ownedOnly` (from /proc, so it works while the process is stopped).
    static func connections(of pid: Int32, ownedOnly: Bool = true) -> [Connection] {
        var inodes = Set<String>()
        if ownedOnly {
            for fd in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? [] {
                guard let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)"), link.hasPrefix("socket:[") else {
                    continue
                }
                inodes.insert(String(link.dropFirst(8).dropLast()))
            }
        }
        var found = [Connection]()
        for table in ["tcp", "tcp6"] {
            // Read to the end: the kernel makes /proc/net/tcp a page per read, and
            // String(contentsOfFile:) stops after the first read of a file whose size is 0.
            let handle = FileHandle(forReadingAtPath: "/proc/\(pid)/net/\(table)")
            defer { try? handle?.close() }
            let text = ((try? handle?.readToEnd()) ?? nil).map { String(decoding: $0, as: UTF8.self) } ?? ""
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                guard fields.count > 9, !ownedOnly || inodes.contains(String(fields[9])),
                    let local = fields[1].split(separator: ":").last.flatMap({ Int($0, radix: 16) }),
                    let remote = fields[2].split(separator: ":").last.flatMap({ Int($0, radix: 16) })
                else { continue }
                found.append(Connection(local: local, remote: remote, state: String(fields[3]), inode: String(fields[9])))
            }
        }
        return found
    }

    static func lineCount(_ path: String) throws -> Int {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").count
    }

    /// Polls `condition` every 100 ms (suspending) until it holds or `timeout` seconds pass.
    static func waitFor(timeout: Double, _ condition: () -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return condition()
    }

    @Test func invalidScenarioIsRefusedBeforeAnyProcessStarts() async throws {
        let run = try await FedArenaProcess.run(scenario: Self.scenario, name: "invalid", overrides: ["training.roundz=3"])
        #expect(run.exitCode == 2)
        #expect(run.output.contains("training.roundz"))
        #expect(run.output.contains("did you mean \"rounds\""))
        #expect(!FileManager.default.fileExists(atPath: run.folder))
    }

    @Test func missingDatasetNamesThePackage() async throws {
        let run = try await FedArenaProcess.run(
            scenario: Self.scenario, name: "nodata", environment: ["FEDARENA_DATA": "/nonexistent/fmnist"])
        #expect(run.exitCode == 1)
        #expect(run.output.contains("dataset-fashion-mnist"))
        #expect(run.output.contains("/nonexistent/fmnist"))
    }
}
