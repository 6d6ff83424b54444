import FedArenaScenarios
import Foundation
import Testing

/// CurveZMQ end to end: a local run with CURVE gives the same model as without, and a
/// standalone CURVE coordinator admits only the keys of its allow-list while the run's
/// results stay those of an undisturbed run.
@Suite(.serialized) struct CurveRunTests {
    static func mode(_ path: String) -> Int {
        var status = stat()
        return stat(path, &status) == 0 ? Int(status.st_mode & 0o777) : -1
    }

    @Test func aLocalRunWithCurveMatchesThePlaintextRun() async throws {
        let plain = try await FedArenaProcess.run(scenario: LocalRunTests.scenario, name: "curve-off", overrides: ["training.rounds=3"])
        let curve = try await FedArenaProcess.run(
            scenario: LocalRunTests.scenario, name: "curve-on", overrides: ["training.rounds=3", "transport.curve=true"])
        #expect(plain.exitCode == 0 && curve.exitCode == 0, "\(plain.output)\n\(curve.output)")
        #expect(plain.output.contains("CURVE off"))
        let first = try #require(try plain.summary()["model_sha256"] as? String)
        let second = try #require(try curve.summary()["model_sha256"] as? String)
        #expect(first == second)
        // Per-run keys in the run folder, secret keys readable by the owner only.
        #expect(Self.mode(curve.folder + "/keys") == 0o700)
        for index in 0..<4 { #expect(Self.mode(curve.folder + "/keys/client-\(index).key") == 0o600) }
        #expect(Self.mode(curve.folder + "/keys/coordinator.key") == 0o600)
        let log = try String(contentsOfFile: curve.folder + "/coordinator.log", encoding: .utf8)
        #expect(log.contains("CURVE on"))
    }

    @Test func aCurveCoordinatorAdmitsOnlyItsKeysAndTheResultsStayTheSame() async throws {
        let base = try FedArenaProcess.folder("curve-standalone")
        let keys = base + "/keys"
        let otherKeys = base + "/other-keys"
        for (folder, count) in [(keys, 2), (otherKeys, 1)] {
            let made = try await FedArenaProcess.startCommand(["keys", "generate", folder, "--clients", String(count)], name: "curve-standalone").wait(timeout: 60)
            #expect(made.exitCode == 0, "\(made.output)")
        }
        let scenarioFile = base + "/scenario.yaml"
        try LocalRunTests.scenario.write(toFile: scenarioFile, atomically: true, encoding: .utf8)
        let coordinator = try FedArenaProcess.startCommand(
            ["coordinator", scenarioFile, "--bind", "tcp://127.0.0.1:0", "--out", base + "/run", "--set", "clients.processes=2",
             "--set", "transport.keys=\(keys)", "--set", "training.rounds=3", "--set", "transport.connect_timeout_s=120"],
            name: "curve-standalone")
        // The port it bound, from the run folder's processes.json.
        let endpoint = try await FedArenaProcess.Running(process: coordinator.process, folder: base + "/run", outputPath: coordinator.outputPath)
            .processes(timeout: 120).endpoint
        // Before the real clients: a plaintext one and one with a key the allow-list lacks,
        // both claiming process indexes the real clients will use.
        let plaintext = try FedArenaProcess.startCommand(
            ["client", "--connect", endpoint, "--process-index", "0", "--no-curve", "--coordinator-timeout", "4"], name: "curve-standalone")
        let stranger = try FedArenaProcess.startCommand(
            ["client", "--connect", endpoint, "--process-index", "1", "--secret-key", otherKeys + "/client-0.key",
             "--server-key", keys + "/coordinator.pub", "--coordinator-timeout", "4"],
            name: "curve-standalone")
        let refusedPlaintext = try await plaintext.wait(timeout: 60)
        let refusedStranger = try await stranger.wait(timeout: 60)
        #expect(refusedPlaintext.exitCode == 3, "\(refusedPlaintext.output)")
        #expect(refusedPlaintext.output.contains("no connection to the coordinator"))
        #expect(refusedStranger.exitCode == 3, "\(refusedStranger.output)")
        #expect(refusedStranger.output.contains("refused this client's key"), "\(refusedStranger.output)")
        let clients = try (0..<2).map { index in
            try FedArenaProcess.startCommand(
                ["client", "--connect", endpoint, "--process-index", String(index), "--keys", keys], name: "curve-standalone",
                environment: ["OPENBLAS_NUM_THREADS": "1"])
        }
        let finished = try await coordinator.wait(timeout: 300)
        #expect(finished.exitCode == 0, "\(finished.output)")
        for client in clients { await #expect(try client.wait(timeout: 30).exitCode == 0) }
        let summary = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: base + "/run/summary.json"))) as? [String: Any])
        #expect(summary["rounds_completed"] as? Int == 3)
        // Nothing the intruders sent reached the coordinator, and the model is the local run's.
        #expect(summary["rejected_messages"] as? Int ?? 0 == 0)
        let local = try await FedArenaProcess.run(
            scenario: LocalRunTests.scenario, name: "curve-reference", overrides: ["training.rounds=3", "clients.processes=2"])
        #expect(local.exitCode == 0)
        #expect(summary["model_sha256"] as? String == (try local.summary()["model_sha256"] as? String))
    }

    @Test func aCurveCoordinatorWithoutKeysSaysHowToMakeThem() async throws {
        let base = try FedArenaProcess.folder("curve-nokeys")
        let scenarioFile = base + "/scenario.yaml"
        try LocalRunTests.scenario.write(toFile: scenarioFile, atomically: true, encoding: .utf8)
        let coordinator = try FedArenaProcess.startCommand(["coordinator", scenarioFile, "--out", base + "/run"], name: "curve-nokeys")
        let finished = try await coordinator.wait(timeout: 60)
        #expect(finished.exitCode == 1)
        #expect(finished.output.contains("fedarena keys generate DIR --clients 4"), "\(finished.output)")
        let client = try await FedArenaProcess.startCommand(["client", "--connect", "tcp://127.0.0.1:9"], name: "curve-nokeys").wait(timeout: 30)
        // A setting that cannot work exits 2, as a bad option value or FEDARENA_* variable does.
        #expect(client.exitCode == 2, "\(client.output)")
        #expect(client.output.contains("--keys DIR"), "\(client.output)")
    }
}
