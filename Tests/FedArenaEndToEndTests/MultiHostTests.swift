import FedArenaScenarios
import Foundation
import Testing

/// The commands the containers run (`fedarena coordinator` / `fedarena client`, configured by
/// `FEDARENA_*` variables as in deploy/), on separate hosts: network namespaces joined by a
/// bridge, or loopback where a test is about the coordinator alone.
@Suite(.serialized) struct MultiHostTests {
    /// A small scenario: a few seconds in a debug build.
    static func scenario(endpoint: String, processes: Int = 2, extra: String = "") -> String {
        """
        name: multi-host
        seed: 5
        dataset: { name: fashion-mnist, partition: { kind: iid }, train_subset: 2000, test_subset: 500, root_samples: 50 }
        model: { kind: mlp, hidden: [16] }
        training: { rounds: 3, local_epochs: 1, batch_size: 32, lr: 0.1 }
        clients: { count: 6, per_round: 6, processes: \(processes)\(extra) }
        transport: { endpoint: "\(endpoint)", round_timeout_s: 60, connect_timeout_s: 60 }
        """
    }

    /// A fresh scratch folder for one test.
    static func folder(_ name: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fedarena-deploy-\(getpid())-\(name)").path
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Every stderr line is a JSON object with exactly the five keys.
    static func expectJSONLog(_ entry: StartedProcesses.Started) {
        let lines = StartedProcesses.jsonLines(entry.stderr, of: entry.name)
        #expect(!lines.isEmpty, "\(entry.name) logged nothing")
        for line in lines {
            #expect(Set(line.keys) == ["time", "level", "label", "message", "metadata"], "\(entry.name): \(line)")
        }
    }

    /// The endpoint a coordinator bound (from its run folder's processes.json).
    static func boundEndpoint(in folder: String, of coordinator: StartedProcesses.Started) async throws -> String {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, coordinator.isRunning {
            if let data = FileManager.default.contents(atPath: folder + "/processes.json"),
                let record = try? JSONDecoder().decode(RunProcesses.self, from: data)
            {
                return record.endpoint
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the coordinator wrote no \(folder)/processes.json: \(coordinator.stderr)")
        throw StartedProcesses.SpawnFailure(description: "no processes.json")
    }

    @Test(
        .enabled("network namespaces cannot be made here (needs root and iproute2's ip; CI runs as root)") { NetworkNamespaces.available() },
        .timeLimit(.minutes(10)))
    func coordinatorAndClientsOnThreeHostsGiveTheLocalModel() async throws {
        let scratch = try Self.folder("netns")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let namespaces = try NetworkNamespaces(hosts: 3)
        defer { namespaces.tearDown() }
        let processes = StartedProcesses(folder: scratch)
        // Runs before the namespaces go (defers run last-in, first-out).
        defer { processes.stopAll() }

        let coordinatorHost = namespaces.hosts[0]
        let endpoint = "tcp://\(coordinatorHost.address):5555"
        let file = scratch + "/scenario.yaml"
        try Self.scenario(endpoint: endpoint).write(toFile: file, atomically: true, encoding: .utf8)

        // CURVE on, as in the manifests: one key folder, each process reading its own key.
        let keys = scratch + "/keys"
        let generated = try NetworkNamespaces.run(FedArenaProcess.executable, ["keys", "generate", keys, "--clients", "2"])
        try #require(generated.status == 0, "\(generated.output)")

        let (ip, coordinatorArguments) = namespaces.command(on: coordinatorHost, [FedArenaProcess.executable, "coordinator"])
        let coordinator = try processes.start(
            "coordinator", ip, coordinatorArguments,
            environment: StartedProcesses.environment([
                "FEDARENA_SCENARIO": file, "FEDARENA_BIND": endpoint, "FEDARENA_OUT": scratch + "/run", "FEDARENA_KEYS": keys,
            ]))
        var clients = [StartedProcesses.Started]()
        for index in 0..<2 {
            let (_, arguments) = namespaces.command(on: namespaces.hosts[index + 1], [FedArenaProcess.executable, "client"])
            clients.append(
                try processes.start(
                    "client-\(index)", ip, arguments,
                    environment: StartedProcesses.environment([
                        "FEDARENA_CONNECT": endpoint, "FEDARENA_PROCESS_INDEX": "\(index)", "FEDARENA_KEYS": keys,
                    ])))
        }
        let status = try await processes.wait(coordinator, timeout: 300)
        #expect(status == 0, "coordinator:\n\(coordinator.stderr)")
        for client in clients {
            let clientStatus = try await processes.wait(client, timeout: 60)
            #expect(clientStatus == 0, "\(client.name):\n\(client.stderr)")
            Self.expectJSONLog(client)
            #expect(client.stderr.contains("connecting to \(endpoint), CURVE"), "\(client.stderr)")
        }
        Self.expectJSONLog(coordinator)

        // The same scenario in one process tree on loopback gives the same bytes.
        let local = try await FedArenaProcess.run(
            scenario: Self.scenario(endpoint: endpoint), name: "deploy-netns-local", overrides: ["transport.endpoint=tcp://127.0.0.1:0"])
        #expect(local.exitCode == 0, "\(local.output)")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: scratch + "/run/summary.json"))) as? [String: Any]
        #expect(summary?["rounds_completed"] as? Int == 3)
        let remote = try #require(summary?["model_sha256"] as? String)
        #expect(remote == (try local.summary()["model_sha256"] as? String))
    }

    /// The network between the hosts is bad: the clients reach the coordinator through
    /// `fedarena relay` on a fourth host, which delays every chunk, stalls the link and cuts
    /// every connection every few seconds (the kernel here has no `tc netem`). Clients
    /// reconnect and say HELLO again, the coordinator trains them again for the round in
    /// progress, and the run ends with the model of a local run.
    @Test(
        .enabled("network namespaces cannot be made here (needs root and iproute2's ip; CI runs as root)") { NetworkNamespaces.available() },
        .timeLimit(.minutes(10)))
    func aRunThroughAFaultyRelayGivesTheLocalModel() async throws {
        let scratch = try Self.folder("relay")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let namespaces = try NetworkNamespaces(hosts: 4)
        defer { namespaces.tearDown() }
        let processes = StartedProcesses(folder: scratch)
        defer { processes.stopAll() }

        let (coordinatorHost, relayHost) = (namespaces.hosts[0], namespaces.hosts[1])
        let endpoint = "tcp://\(coordinatorHost.address):5555"
        let relayed = "tcp://\(relayHost.address):6000"
        let file = scratch + "/scenario.yaml"
        // More rounds than the three-host test, so that the faults land inside the run.
        let scenario = Self.scenario(endpoint: endpoint).replacingOccurrences(of: "rounds: 3", with: "rounds: 20")
        try scenario.write(toFile: file, atomically: true, encoding: .utf8)
        let keys = scratch + "/keys"
        let generated = try NetworkNamespaces.run(FedArenaProcess.executable, ["keys", "generate", keys, "--clients", "2"])
        try #require(generated.status == 0, "\(generated.output)")

        let (ip, relayArguments) = namespaces.command(
            on: relayHost,
            [FedArenaProcess.executable, "relay", "--listen", "\(relayHost.address):6000", "--to", "\(coordinatorHost.address):5555",
             "--delay-ms", "30", "--stall-every-s", "2.5", "--stall-s", "0.5", "--cut-every-s", "1.5"])
        let relay = try processes.start("relay", ip, relayArguments, environment: StartedProcesses.environment([:]))
        let (_, coordinatorArguments) = namespaces.command(on: coordinatorHost, [FedArenaProcess.executable, "coordinator"])
        let coordinator = try processes.start(
            "coordinator", ip, coordinatorArguments,
            environment: StartedProcesses.environment([
                "FEDARENA_SCENARIO": file, "FEDARENA_BIND": endpoint, "FEDARENA_OUT": scratch + "/run", "FEDARENA_KEYS": keys,
            ]))
        for index in 0..<2 {
            let (_, arguments) = namespaces.command(on: namespaces.hosts[index + 2], [FedArenaProcess.executable, "client"])
            try processes.start(
                "client-\(index)", ip, arguments,
                environment: StartedProcesses.environment([
                    "FEDARENA_CONNECT": relayed, "FEDARENA_PROCESS_INDEX": "\(index)", "FEDARENA_KEYS": keys,
                ]))
        }
        let status = try await processes.wait(coordinator, timeout: 400)
        #expect(status == 0, "coordinator:\n\(coordinator.stderr)")
        // The faults happened while clients were connected (a cut needs an open connection).
        #expect(relay.stdout.contains("listening on \(relayHost.address):6000"), "\(relay.stdout)\n\(relay.stderr)")
        #expect(relay.stderr.contains("cut connection"), "the relay cut nothing: \(relay.stderr)")

        let local = try await FedArenaProcess.run(
            scenario: scenario, name: "deploy-relay-local", overrides: ["transport.endpoint=tcp://127.0.0.1:0"])
        #expect(local.exitCode == 0, "\(local.output)")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: scratch + "/run/summary.json"))) as? [String: Any]
        #expect(summary?["rounds_completed"] as? Int == 20)
        #expect(summary?["dropouts"] as? Int == 0, "\(String(describing: summary))")
        let remote = try #require(summary?["model_sha256"] as? String)
        #expect(remote == (try local.summary()["model_sha256"] as? String))
    }

    @Test(.timeLimit(.minutes(5)))
    func theCoordinatorNamesTheMissingProcessIndexes() async throws {
        let scratch = try Self.folder("missing")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let processes = StartedProcesses(folder: scratch)
        defer { processes.stopAll() }
        let file = scratch + "/scenario.yaml"
        // Three processes expected, the quorum needs every client; only 0 and 2 come.
        try Self.scenario(endpoint: "tcp://127.0.0.1:0", processes: 3, extra: ", quorum: 1.0")
            .write(toFile: file, atomically: true, encoding: .utf8)
        let coordinator = try processes.start(
            "coordinator", FedArenaProcess.executable, ["coordinator", file, "--out", scratch + "/run", "--set", "transport.connect_timeout_s=4"],
            environment: StartedProcesses.environment(["FEDARENA_CURVE": "false"]))
        let bound = try await Self.boundEndpoint(in: scratch + "/run", of: coordinator)
        for index in [0, 2] {
            try processes.start(
                "client-\(index)", FedArenaProcess.executable, ["client", "--connect", bound],
                environment: StartedProcesses.environment(["FEDARENA_PROCESS_INDEX": "\(index)", "FEDARENA_CURVE": "false"]))
        }
        let status = try await processes.wait(coordinator, timeout: 120)
        #expect(status == 1)
        let errors = StartedProcesses.jsonLines(coordinator.stderr, of: "coordinator").filter { $0["level"] as? String == "error" }
        let message = try #require(errors.last?["message"] as? String, "\(coordinator.stderr)")
        #expect(message.contains("only 2 of 3 client processes connected"), "\(message)")
        #expect(message.contains("missing process indexes: 1)"), "\(message)")
    }

    @Test(.timeLimit(.minutes(5)))
    func sigtermStopsAWaitingCoordinatorWith143() async throws {
        let scratch = try Self.folder("sigterm")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let processes = StartedProcesses(folder: scratch)
        defer { processes.stopAll() }
        let file = scratch + "/scenario.yaml"
        try Self.scenario(endpoint: "tcp://127.0.0.1:0").write(toFile: file, atomically: true, encoding: .utf8)
        let coordinator = try processes.start(
            "coordinator", FedArenaProcess.executable, ["coordinator", file, "--no-curve"],
            environment: StartedProcesses.environment(["FEDARENA_OUT": scratch + "/run"]))
        // Bound and waiting for its clients, which never come.
        _ = try await Self.boundEndpoint(in: scratch + "/run", of: coordinator)
        kill(coordinator.pid, SIGTERM)
        #expect(try await processes.wait(coordinator, timeout: 60) == 143, "\(coordinator.stderr)")
        let last = try #require(StartedProcesses.jsonLines(coordinator.stderr, of: "coordinator").last)
        #expect(last["level"] as? String == "error")
        #expect((last["message"] as? String)?.hasPrefix("fedarena coordinator stopped") == true, "\(last)")
    }

    @Test func anInvalidVariableExitsTwoAndNamesIt() async throws {
        let scratch = try Self.folder("invalid")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let processes = StartedProcesses(folder: scratch)
        defer { processes.stopAll() }
        let client = try processes.start(
            "client", FedArenaProcess.executable, ["client"],
            environment: StartedProcesses.environment(["FEDARENA_CONNECT": "tcp://127.0.0.1:9", "FEDARENA_PROCESS_INDEX": "two"]))
        #expect(try await processes.wait(client, timeout: 60) == 2)
        let line = try #require(StartedProcesses.jsonLines(client.stderr, of: "client").first)
        #expect(line["level"] as? String == "error")
        #expect(line["message"] as? String == "FEDARENA_PROCESS_INDEX=\"two\" is not an integer")
        // A bad option value exits 2 as well (not ArgumentParser's 64).
        let flagged = try processes.start(
            "client-flag", FedArenaProcess.executable, ["client", "--connect", "tcp://127.0.0.1:9", "--clients", "1,x"],
            environment: StartedProcesses.environment([:]))
        #expect(try await processes.wait(flagged, timeout: 60) == 2)
        #expect(flagged.stderr.contains("--clients / FEDARENA_CLIENTS expects comma-separated client indexes"), "\(flagged.stderr)")

        let coordinator = try processes.start(
            "coordinator", FedArenaProcess.executable, ["coordinator"],
            environment: StartedProcesses.environment(["FEDARENA_SCENARIO": scratch + "/none.yaml", "FEDARENA_LOG_FORMAT": "text"]))
        #expect(try await processes.wait(coordinator, timeout: 60) == 2)
        #expect(coordinator.stderr.contains("none.yaml"), "\(coordinator.stderr)")
        #expect(!coordinator.stderr.hasPrefix("{"), "FEDARENA_LOG_FORMAT=text gives text lines: \(coordinator.stderr)")
    }

    /// Each option's help names its variable, and the discussion lists the exit statuses.
    @Test(arguments: ["coordinator", "client"])
    func everyOptionNamesItsVariable(command: String) throws {
        let help = try NetworkNamespaces.run(FedArenaProcess.executable, [command, "--help"])
        #expect(help.status == 0)
        // Option entries start with two spaces and a dash; their help runs until the next one.
        var entries = [String]()
        for line in help.output.split(separator: "\n").map(String.init) {
            if line.hasPrefix("  -") || line.hasPrefix("  <") {
                entries.append(line)
            } else if !entries.isEmpty, line.hasPrefix("   ") {
                entries[entries.count - 1] += " " + line.trimmingCharacters(in: .whitespaces)
            }
        }
        let options = entries.filter { !$0.contains("--help") }
        #expect(options.count >= 5, "\(help.output)")
        for option in options {
            #expect(option.contains("FEDARENA_"), "no FEDARENA_* variable in: \(option)")
        }
        for status in ["0", "1", "2", "130", "143"] {
            #expect(help.output.contains("\n  \(status) "), "exit status \(status) undocumented")
        }
    }
}
