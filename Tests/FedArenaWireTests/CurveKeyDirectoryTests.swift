import FedArenaCore
import FedArenaWire
import Foundation
import Testing

struct CurveKeyDirectoryTests {
    static func temporaryFolder(_ name: String) -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fedarena-keys-\(name)-\(UUID().uuidString)").path
        return path
    }

    static func mode(_ path: String) -> Int {
        var status = stat()
        return stat(path, &status) == 0 ? Int(status.st_mode & 0o777) : -1
    }

    @Test func generateWritesEveryFileWithItsMode() throws {
        let path = Self.temporaryFolder("generate")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let folder = try CurveKeyDirectory.generate(at: path, clientProcesses: 3)
        #expect(Self.mode(path) == 0o700)
        for name in ["coordinator.key", "adversary.key", "client-0.key", "client-1.key", "client-2.key"] {
            #expect(Self.mode(path + "/" + name) == 0o600, "\(name)")
        }
        for name in ["coordinator.pub", "adversary.pub", "allow-list.json"] {
            #expect(Self.mode(path + "/" + name) == 0o644, "\(name)")
        }
        #expect(!FileManager.default.fileExists(atPath: path + "/client-3.key"))
        #expect(folder.allowList.processIndices == [0, 1, 2])
        for index in 0..<3 {
            let pair = try folder.clientKeyPair(process: index)
            #expect(folder.allowList.identity(of: pair.publicKey) == .clientProcess(index))
        }
        let coordinator = try folder.coordinatorKeyPair()
        #expect(folder.allowList.coordinator == coordinator.publicKey)
        #expect(folder.allowList.identity(of: coordinator.publicKey) == .coordinator)
        #expect(try CurveKeyDirectory.readPublic(path + "/coordinator.pub") == coordinator.publicKey)
        #expect(try CurveKeyDirectory.readPublic(coordinator.publicKey.z85) == coordinator.publicKey)
        #expect(folder.allowList.adversary == (try folder.adversaryKeyPair()).publicKey)
        // The allow-list holds public keys only.
        let text = try String(contentsOfFile: path + "/allow-list.json", encoding: .utf8)
        #expect(!text.contains(coordinator.secretKey))
        #expect(!text.contains(try folder.clientKeyPair(process: 0).secretKey))
        // The coordinator's server admits client processes only.
        #expect(folder.allowList.clientsOnly.identity(of: coordinator.publicKey) == nil)
        #expect(folder.allowList.clientsOnly.processIndices == [0, 1, 2])
    }

    @Test func generateRefusesAFolderThatHoldsKeys() throws {
        let path = Self.temporaryFolder("twice")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try CurveKeyDirectory.generate(at: path, clientProcesses: 1)
        let before = try String(contentsOfFile: path + "/coordinator.key", encoding: .utf8)
        do {
            try CurveKeyDirectory.generate(at: path, clientProcesses: 1)
            Issue.record("the second generate overwrote the keys")
        } catch {
            #expect(error.code == .writeFailed)
            #expect(error.message.contains("already holds keys"))
        }
        #expect(try String(contentsOfFile: path + "/coordinator.key", encoding: .utf8) == before)
    }

    @Test func aSecretKeyReadableByOthersIsRefused() throws {
        let path = Self.temporaryFolder("mode")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let folder = try CurveKeyDirectory.generate(at: path, clientProcesses: 1)
        chmod(path + "/client-0.key", 0o644)
        do {
            _ = try folder.clientKeyPair(process: 0)
            Issue.record("a 0644 secret key was read")
        } catch {
            #expect(error.message.contains("chmod 600"))
            #expect(error.message.contains("client-0.key"))
        }
    }

    @Test func allowListsWithDuplicatesOrBadKeysAreRefusedWithTheFileName() throws {
        let path = Self.temporaryFolder("lists")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let key = try CurveKeyPair.generate().publicKey.z85
        let other = try CurveKeyPair.generate().publicKey.z85
        let cases: [(String, CurveKeyError.Code, String)] = [
            (#"{"format":"fedarena-curve-allow-list-1","clients":[{"process_index":0,"public_key":"\#(key)"},{"process_index":1,"public_key":"\#(key)"}]}"#,
             .duplicate, "listed for process"),
            (#"{"format":"fedarena-curve-allow-list-1","clients":[{"process_index":0,"public_key":"\#(key)"},{"process_index":0,"public_key":"\#(other)"}]}"#,
             .duplicate, "process index 0 is listed twice"),
            (#"{"format":"fedarena-curve-allow-list-1","clients":[{"process_index":2,"public_key":"nope"}]}"#, .malformed, "clients[0] (process 2)"),
            (#"{"format":"something-else","clients":[]}"#, .malformed, "expected \"fedarena-curve-allow-list-1\""),
            ("not json", .malformed, "is not a FedArena allow-list"),
        ]
        for (index, (text, code, fragment)) in cases.enumerated() {
            let file = "\(path)/list-\(index).json"
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            do {
                _ = try CurveAllowList(contentsOf: file)
                Issue.record("case \(index) was accepted")
            } catch {
                #expect(error.code == code, "case \(index): \(error)")
                #expect(error.message.contains(fragment), "case \(index): \(error.message)")
                #expect(error.message.contains(file), "case \(index): \(error.message)")
            }
        }
        do {
            _ = try CurveAllowList(contentsOf: "\(path)/missing.json")
            Issue.record("a missing file was read")
        } catch {
            #expect(error.code == .unreadable)
        }
    }

    @Test func anAllowListSurvivesItsFile() throws {
        let keys = try (0..<4).map { _ in try CurveKeyPair.generate().publicKey }
        let list = try CurveAllowList(clients: [0: keys[0], 7: keys[1]], coordinator: keys[2], adversary: keys[3])
        let path = Self.temporaryFolder("roundtrip") + ".json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try list.fileContents.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try CurveAllowList(contentsOf: path) == list)
        #expect(list.processIndices == [0, 7])
        #expect(list.identity(of: keys[1]) == .clientProcess(7))
        #expect(list.identity(of: keys[3]) == nil)
    }
}
