import FedArenaCore
import FedArenaData
import Foundation
import Testing

/// `fedarena aggregate` on NPY files, run as a real process.
@Suite struct AggregateCommandTests {
    /// 7 honest updates near (1, 1, 1, 1) and 2 large outliers.
    static func writeUpdates(in folder: URL) throws -> String {
        var rows = [Float]()
        for index in 0..<7 { rows += (0..<4).map { Float(1) + Float((index + $0) % 3) * 0.01 } }
        rows += [100, -100, 100, -100, 90, 90, -90, -90]
        let path = folder.appendingPathComponent("updates.npy").path
        try NPYFile.write(rows, shape: [9, 4], to: path)
        return path
    }

    static func run(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await ChildProcess.run(FedArenaProcess.executable, ["aggregate"] + arguments)
    }

    @Test func krumSelectsAnHonestUpdateAndWritesTheResult() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fedarena-agg-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = try Self.writeUpdates(in: folder)
        let output = folder.appendingPathComponent("merged.npy").path
        let (status, text) = try await Self.run(["--rule", "krum", "--f", "2", "--in", input, "--out", output])
        #expect(status == 0, "\(text)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let selected = try #require(json["selected"] as? [Int])
        #expect(selected.count == 1)
        #expect(selected[0] < 7)
        #expect((json["weights"] as? [Double])?.count == 9)
        let (merged, shape) = try NPYFile.read(output)
        #expect(shape == [4])
        #expect(merged.allSatisfy { abs($0 - 1) < 0.05 })
    }

    @Test func badArgumentsAreExplained() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fedarena-agg-bad-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = try Self.writeUpdates(in: folder)
        let tooMany = try await Self.run(["--rule", "krum", "--f", "4", "--in", input])
        #expect(tooMany.status == 2)
        #expect(tooMany.output.contains("n > 2f + 2"))
        let unknown = try await Self.run(["--rule", "krumm", "--f", "1", "--in", input])
        #expect(unknown.status == 2)
        #expect(unknown.output.contains("did you mean \"krum\""))
        let missing = try await Self.run(["--rule", "median", "--in", folder.appendingPathComponent("nope.npy").path])
        #expect(missing.status == 2)
        #expect(missing.output.contains("nope.npy"))
    }
}
