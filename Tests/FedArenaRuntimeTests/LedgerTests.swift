import FedArenaCore
import FedArenaReports
import FedArenaRuntime
import Foundation
import Testing

@Suite struct LedgerTests {
    func writeLedger(_ name: String, entries: Int) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fedarena-ledger-\(getpid())-\(name).jsonl").path
        let ledger = try Ledger(path: path)
        for round in 1...entries {
            try ledger.append(LedgerTests.entry(round: round))
        }
        return path
    }

    static func entry(round: Int) -> LedgerEntry {
        LedgerEntry(
            RoundMetrics(
                round: round, accuracy: 0.5, loss: nil, perClassAccuracy: [], selected: [0, round], accepted: [0, round], dropped: [],
                rejected: [RejectionRecord(client: nil, peer: "peer 1f", reason: "say \"hi\"")], rejectedCount: 1,
                rejectedByReason: ["undecodable": 1], lateUpdates: 0, applied: true, degraded: nil, aggregator: "fedavg",
                aggregatorNote: nil, weights: ["0": 0.5, "\(round)": 0.5], meanTrainLoss: nil, nonFiniteTrainLosses: 0, stepNorm: 1,
                seconds: 0, waitSeconds: 0, aggregateSeconds: 0, asr: nil, attacking: nil, maliciousAccepted: nil, maliciousWeight: nil,
                modelSHA256: String(repeating: "a", count: 64), detection: nil))
    }

    func lines(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    func write(_ lines: [String], to path: String) throws {
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test func intactChainVerifiesAndLinesAreJSON() throws {
        let path = try writeLedger("intact", entries: 4)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let verification = try Ledger.verify(path: path)
        #expect(verification.entries == 4)
        #expect(verification.problem == nil)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(try lines(path)[0].utf8)) as? [String: Any])
        #expect(first["previous"] as? String == Ledger.genesis)
        #expect((first["hash"] as? String)?.count == 64)
        let second = try #require(try JSONSerialization.jsonObject(with: Data(try lines(path)[1].utf8)) as? [String: Any])
        #expect(second["previous"] as? String == first["hash"] as? String)
        // Undefined values are written as null, never left out.
        #expect(first["degraded"] is NSNull)
        #expect(first["aggregator_note"] is NSNull)
    }

    @Test func changedRemovedAndReorderedEntriesAreCaught() throws {
        let path = try writeLedger("tamper", entries: 4)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let original = try lines(path)

        var changed = original
        changed[2] = changed[2].replacingOccurrences(of: "\"round\":3", with: "\"round\":9")
        try write(changed, to: path)
        let edit = try Ledger.verify(path: path)
        #expect(edit.entries == 2)
        #expect(edit.problem?.contains("line 3") == true)

        var removed = original
        removed.remove(at: 1)
        try write(removed, to: path)
        #expect(try Ledger.verify(path: path).problem?.contains("line 2") == true)

        var swapped = original
        swapped.swapAt(1, 2)
        try write(swapped, to: path)
        #expect(try Ledger.verify(path: path).problem != nil)
    }
}
