import ArgumentParser
import FedArenaCore
import Foundation
import Testing

@testable import fedarena

/// `FEDARENA_*` variables under the command-line options: the flag wins, then the variable,
/// then the default; bad values name their variable.
@Suite struct OptionEnvironmentTests {
    @Test func theFlagWinsThenTheVariableThenNothing() throws {
        let environment = OptionEnvironment(["FEDARENA_BIND": "tcp://0.0.0.0:7000", "FEDARENA_RETRIES": "4", "FEDARENA_BLANK": "  "])
        #expect(environment.string("tcp://10.0.0.1:1", "FEDARENA_BIND") == "tcp://10.0.0.1:1")
        #expect(environment.string(nil, "FEDARENA_BIND") == "tcp://0.0.0.0:7000")
        #expect(environment.string(nil, "FEDARENA_UNSET") == nil)
        // A blanked-out variable counts as unset.
        #expect(environment.string(nil, "FEDARENA_BLANK") == nil)
        #expect(try environment.int(9, "FEDARENA_RETRIES") == 9)
        #expect(try environment.int(nil, "FEDARENA_RETRIES") == 4)
    }

    @Test func aMalformedVariableNamesItselfAndItsValue() throws {
        let environment = OptionEnvironment(["FEDARENA_PROCESS_INDEX": "two", "FEDARENA_TIMEOUT": "inf"])
        #expect {
            _ = try environment.int(nil, "FEDARENA_PROCESS_INDEX")
        } throws: { error in
            let error = error as? OptionError
            return error?.code == .invalidValue && error?.message == "FEDARENA_PROCESS_INDEX=\"two\" is not an integer"
        }
        #expect(throws: OptionError.self) { _ = try environment.double(nil, "FEDARENA_TIMEOUT") }
        // The flag wins, so a bad variable under a given flag is never read.
        #expect(try environment.int(3, "FEDARENA_PROCESS_INDEX") == 3)
    }

    @Test(arguments: [("1", true), ("true", true), ("YES", true), ("on", true), ("0", false), ("False", false), ("no", false), ("off", false)])
    func booleanSpellings(text: String, value: Bool) throws {
        #expect(try OptionEnvironment(["V": text]).bool(nil, "V") == value)
        // --no-flag beats a true variable, --flag a false one.
        #expect(try OptionEnvironment(["V": text]).bool(!value, "V") == !value)
    }

    @Test func aBooleanVariableRejectsOtherWords() {
        #expect(throws: OptionError.self) { _ = try OptionEnvironment(["V": "maybe"]).bool(nil, "V") }
    }

    @Test func overridesFromTheVariableComeBeforeTheFlags() {
        let environment = OptionEnvironment(["FEDARENA_SET": "training.rounds=5; clients.count=20\nattack.fraction=0.3\n"])
        #expect(
            environment.overrides(["training.rounds=7"], "FEDARENA_SET")
                == ["training.rounds=5", "clients.count=20", "attack.fraction=0.3", "training.rounds=7"])
        #expect(OptionEnvironment([:]).overrides(["a=1"], "FEDARENA_SET") == ["a=1"])
    }

    @Test func clientProcessIndexPrecedence() throws {
        let all = [
            "FEDARENA_CONNECT": "tcp://coordinator:5555", "FEDARENA_CURVE": "false", "FEDARENA_PROCESS_INDEX": "7", "JOB_COMPLETION_INDEX": "5",
            "SLURM_PROCID": "3",
        ]
        #expect(try ClientCommand.parse(["--process-index", "1"]).resolve(OptionEnvironment(all)).processIndex == 1)
        #expect(try ClientCommand.parse([]).resolve(OptionEnvironment(all)).processIndex == 7)
        var kubernetes = all
        kubernetes["FEDARENA_PROCESS_INDEX"] = nil
        #expect(try ClientCommand.parse([]).resolve(OptionEnvironment(kubernetes)).processIndex == 5)
        kubernetes["JOB_COMPLETION_INDEX"] = nil
        #expect(try ClientCommand.parse([]).resolve(OptionEnvironment(kubernetes)).processIndex == 3)
        kubernetes["SLURM_PROCID"] = nil
        #expect(try ClientCommand.parse([]).resolve(OptionEnvironment(kubernetes)).processIndex == 0)
    }

    @Test func clientSettingsFromTheEnvironment() throws {
        let environment = OptionEnvironment([
            "FEDARENA_CONNECT": "tcp://coordinator:5555", "FEDARENA_CLIENTS": "4, 9", "FEDARENA_DATA": "/data/fmnist",
            "FEDARENA_KEYS": "/keys", "FEDARENA_COORDINATOR_TIMEOUT": "30",
        ])
        let settings = try ClientCommand.parse([]).resolve(environment)
        var expected = ClientCommand.Settings(connect: "tcp://coordinator:5555", processIndex: 0, clients: [ClientID(4), ClientID(9)], data: "/data/fmnist")
        expected.keys = "/keys"
        expected.coordinatorTimeout = 30
        #expect(settings == expected)
        let flagged = try ClientCommand.parse(["--connect", "tcp://10.1.2.3:6000", "--clients", "1", "--coordinator-timeout", "5"]).resolve(environment)
        #expect(flagged.connect == "tcp://10.1.2.3:6000" && flagged.clients == [ClientID(1)] && flagged.coordinatorTimeout == 5)
    }

    @Test func clientCurveSettings() throws {
        let connect = ["FEDARENA_CONNECT": "tcp://coordinator:5555"]
        // CURVE is on by default and needs keys.
        #expect {
            _ = try ClientCommand.parse([]).resolve(OptionEnvironment(connect))
        } throws: { ($0 as? OptionError)?.code == .missingValue && ($0 as? OptionError)?.message.contains("FEDARENA_KEYS") == true }
        let pair = try ClientCommand.parse([]).resolve(
            OptionEnvironment(connect.merging(["FEDARENA_SECRET_KEY": "/run/secrets/client.key", "FEDARENA_SERVER_KEY": "/run/secrets/coordinator.pub"]) { $1 }))
        #expect(pair.curve && pair.secretKey == "/run/secrets/client.key" && pair.serverKey == "/run/secrets/coordinator.pub")
        // A secret key alone does not say which coordinator to trust.
        #expect(throws: OptionError.self) {
            _ = try ClientCommand.parse(["--secret-key", "k"]).resolve(OptionEnvironment(connect))
        }
        // --no-curve with a key is a contradiction; --curve on the command line beats FEDARENA_CURVE=false.
        #expect {
            _ = try ClientCommand.parse(["--no-curve"]).resolve(OptionEnvironment(connect.merging(["FEDARENA_KEYS": "/keys"]) { $1 }))
        } throws: { ($0 as? OptionError)?.code == .conflict }
        let flagged = try ClientCommand.parse(["--curve", "--keys", "/k"]).resolve(OptionEnvironment(connect.merging(["FEDARENA_CURVE": "false"]) { $1 }))
        #expect(flagged.curve && flagged.keys == "/k")
        #expect(throws: OptionError.self) {
            _ = try ClientCommand.parse(["--no-curve"]).resolve(OptionEnvironment(connect.merging(["FEDARENA_COORDINATOR_TIMEOUT": "0"]) { $1 }))
        }
    }

    @Test func aClientNeedsAnEndpointAndValidClients() {
        #expect {
            _ = try ClientCommand.parse([]).resolve(OptionEnvironment([:]))
        } throws: { ($0 as? OptionError)?.code == .missingValue && ($0 as? OptionError)?.message.contains("FEDARENA_CONNECT") == true }
        #expect {
            _ = try ClientCommand.parse(["--no-curve"]).resolve(OptionEnvironment(["FEDARENA_CONNECT": "tcp://h:1", "FEDARENA_CLIENTS": "1,x"]))
        } throws: { ($0 as? OptionError)?.message.contains("FEDARENA_CLIENTS") == true }
    }

    @Test func coordinatorSettingsFromTheEnvironment() throws {
        let environment = OptionEnvironment([
            "FEDARENA_SCENARIO": "/etc/fedarena/scenario.yaml", "FEDARENA_BIND": "tcp://0.0.0.0:5555", "FEDARENA_OUT": "/results/run",
            "FEDARENA_AUTO_RESUME": "true", "FEDARENA_SET": "training.rounds=3", "FEDARENA_KEYS": "/run/secrets/keys",
        ])
        let settings = try CoordinatorCommand.parse(["--set", "seed=9"]).resolve(environment)
        #expect(
            settings
                == CoordinatorCommand.Settings(
                    file: "/etc/fedarena/scenario.yaml", overrides: ["training.rounds=3", "seed=9"], bind: "tcp://0.0.0.0:5555",
                    out: "/results/run", mode: .automatic, keys: "/run/secrets/keys"))
        // Flags win: a file argument, --no-auto-resume, another --out.
        let flagged = try CoordinatorCommand.parse(["other.yaml", "--no-auto-resume", "--out", "elsewhere", "--no-curve"]).resolve(environment)
        #expect(flagged.file == "other.yaml" && flagged.mode == .start && flagged.out == "elsewhere" && flagged.curve == false)
    }

    @Test func coordinatorModesExcludeEachOther() {
        let base = ["FEDARENA_SCENARIO": "s.yaml", "FEDARENA_OUT": "run"]
        #expect {
            _ = try CoordinatorCommand.parse(["--resume"]).resolve(OptionEnvironment(base.merging(["FEDARENA_OVERWRITE": "1"]) { $1 }))
        } throws: { ($0 as? OptionError)?.code == .conflict }
        // --resume without a run folder.
        #expect {
            _ = try CoordinatorCommand.parse(["s.yaml", "--resume"]).resolve(OptionEnvironment([:]))
        } throws: { ($0 as? OptionError)?.code == .missingValue }
        #expect {
            _ = try CoordinatorCommand.parse([]).resolve(OptionEnvironment([:]))
        } throws: { ($0 as? OptionError)?.message.contains("FEDARENA_SCENARIO") == true }
    }

    @Test func autoResumeReadsTheRunFolder() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fedarena-auto-resume-\(getpid())").path
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let scenario = "name: a\nseed: 1\n"
        #expect(CoordinatorCommand.existingRun(in: folder + "/absent", resolvedScenario: scenario) == .none)
        #expect(CoordinatorCommand.existingRun(in: folder, resolvedScenario: scenario) == .none)
        try scenario.write(toFile: folder + "/scenario.yaml", atomically: true, encoding: .utf8)
        try "{}".write(toFile: folder + "/metrics.jsonl", atomically: true, encoding: .utf8)
        #expect(CoordinatorCommand.existingRun(in: folder, resolvedScenario: scenario) == .other)
        try "{}".write(toFile: folder + "/checkpoint.json", atomically: true, encoding: .utf8)
        #expect(CoordinatorCommand.existingRun(in: folder, resolvedScenario: scenario) == .checkpoint)
        try "{}".write(toFile: folder + "/summary.json", atomically: true, encoding: .utf8)
        #expect(CoordinatorCommand.existingRun(in: folder, resolvedScenario: scenario) == .finished)
        // Another scenario's finished run is not "nothing to do".
        #expect(CoordinatorCommand.existingRun(in: folder, resolvedScenario: "name: b\nseed: 1\n") == .other)
    }
}
