import Foundation
import Testing

/// `fedarena sweep` end to end: real child `fedarena run` processes, real client processes over
/// ZeroMQ, real Fashion-MNIST. Cells are tiny (2,000 training samples, 4 clients, 2-3 rounds)
/// so that a debug build runs each in about a second.
@Suite(.serialized) struct SweepRunTests {
    static let base = """
        base:
          name: e2e-sweep
          seed: 1
          dataset: { name: fashion-mnist, partition: { kind: iid }, train_subset: 2000, test_subset: 500 }
          model: { kind: mlp, hidden: [16] }
          training: { rounds: 3, local_epochs: 1, batch_size: 32, lr: 0.1 }
          clients: { count: 4, per_round: 4, processes: 2 }
          transport: { endpoint: "tcp://127.0.0.1:0", round_timeout_s: 20 }
        """

    static func writeSweep(_ axes: String, in folder: String) throws -> String {
        let path = folder + "/sweep.yaml"
        try (base + "\n" + axes).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func modificationDate(_ path: String) throws -> Date {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date)
    }

    @Test func aKilledSweepResumesWithoutRedoingFinishedCells() async throws {
        let scratch = try SweepProcess.folder("sweep-kill")
        let sweep = try Self.writeSweep("axes:\n  seed: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]\n", in: scratch)
        let out = scratch + "/out"
        let arguments = ["sweep", sweep, "--out", out, "--jobs", "1"]
        let first = try SweepProcess.start(arguments, outputPath: scratch + "/first.txt")
        // Wait for two finished cells, then SIGKILL the sweep (no chance to clean up).
        let pid = first.pid
        let signalled = await ChildProcess.when({ SweepProcess.states(in: out).values.filter { $0 == "done" }.count >= 2 }, timeout: 300) {
            kill(pid, SIGKILL)
        }
        #expect(signalled, "the sweep never finished two cells")
        let killed = await first.wait(timeout: 30)
        #expect(killed.status == SIGKILL)
        let before = SweepProcess.states(in: out)
        let finished = before.filter { $0.value == "done" }.map(\.key).sorted()
        #expect(finished.count >= 2 && finished.count < 12, "\(before)")
        var summaryDates = [String: Date]()
        for name in finished { summaryDates[name] = try Self.modificationDate("\(out)/\(name)/summary.json") }

        let second = try await SweepProcess.run(arguments, outputPath: scratch + "/second.txt")
        #expect(second.status == 0, "\(second.output)")
        #expect(second.cells("cell_skipped").sorted() == finished, "\(second.output)")
        #expect(Set(second.cells("cell_start")).isDisjoint(with: finished))
        #expect(second.cells("cell_start").count == 12 - finished.count)
        for name in finished {
            #expect(try Self.modificationDate("\(out)/\(name)/summary.json") == summaryDates[name], "\(name) was run again")
        }
        let records = try SweepProcess.cellRecords(in: out)
        #expect(records.count == 12)
        #expect(records.allSatisfy { $0["status"] as? String == "done" })
        // The run the killed sweep left behind was stopped (with its clients) or has finished.
        #expect(SweepProcess.processes(mentioning: out).isEmpty)
        #expect(SweepProcess.leftovers(in: out).isEmpty, "\(SweepProcess.leftovers(in: out))")
        try? FileManager.default.removeItem(atPath: scratch)
    }

    @Test func sigintStopsTheCellsProcessTreesAndRecordsWhatFinished() async throws {
        let scratch = try SweepProcess.folder("sweep-sigint")
        // Enough cells that a loaded machine cannot finish them all before the signal lands.
        let sweep = try Self.writeSweep("axes:\n  seed: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n", in: scratch)
        let out = scratch + "/out"
        let running = try SweepProcess.start(["sweep", sweep, "--out", out, "--jobs", "1"], outputPath: scratch + "/output.txt")
        let pid = running.pid
        let signalled = await ChildProcess.when(
            {
                let states = SweepProcess.states(in: out).values
                return states.contains("done") && states.contains("running")
            }, timeout: 300
        ) { kill(pid, SIGINT) }
        #expect(signalled, "the sweep never had a finished cell and a running one")
        let stopped = await running.wait(timeout: 60)
        #expect(stopped.status == 130, "\(stopped.output)")
        #expect(SweepProcess.processes(mentioning: out).isEmpty, "processes left: \(SweepProcess.processes(mentioning: out))")
        #expect(SweepProcess.leftovers(in: out).isEmpty, "client processes left: \(SweepProcess.leftovers(in: out))")
        let records = try SweepProcess.cellRecords(in: out)
        #expect(records.count == 10)
        #expect(records.contains { $0["status"] as? String == "done" })
        #expect(records.contains { $0["status"] as? String == "missing" })
        try? FileManager.default.removeItem(atPath: scratch)
    }

    @Test func aFailingCellIsRecordedAndTheOthersFinish() async throws {
        let scratch = try SweepProcess.folder("sweep-fail")
        let sweep = try Self.writeSweep("""
            axes:
              dataset.path:
                real: /usr/share/datasets/fashion-mnist
                missing: /nonexistent/fedarena-data
              seed: [1, 2]
            """, in: scratch)
        let out = scratch + "/out"
        let result = try await SweepProcess.run(["sweep", sweep, "--out", out], outputPath: scratch + "/output.txt")
        // The exit status is the number of failed cells.
        #expect(result.status == 2, "\(result.output)")
        #expect(result.cells("cell_failed").sorted() == ["path-missing__seed-1", "path-missing__seed-2"])
        let records = try SweepProcess.cellRecords(in: out)
        let byName = Dictionary(uniqueKeysWithValues: records.map { ($0["name"] as! String, $0) })
        for seed in [1, 2] {
            let good = try #require(byName["path-real__seed-\(seed)"])
            #expect(good["status"] as? String == "done")
            #expect(((good["metrics"] as? [String: Any])?["final_accuracy"] as? Double ?? 0) > 0.2)
            let bad = try #require(byName["path-missing__seed-\(seed)"])
            #expect(bad["status"] as? String == "failed")
            #expect((bad["error"] as? String)?.contains("/nonexistent/fedarena-data") == true, "\(bad)")
            #expect(bad["exit_code"] as? Int == 1)
        }
        let table = try String(contentsOfFile: out + "/table.md", encoding: .utf8)
        #expect(table.contains("0 (2 failed)"), "\(table)")
        try? FileManager.default.removeItem(atPath: scratch)
    }

    @Test func cellAndCollectGiveTheSameTableAsALocalSweep() async throws {
        let scratch = try SweepProcess.folder("sweep-cluster")
        let sweep = try Self.writeSweep("""
            axes:
              attack:
                flip: { kind: sign-flip, scale: 4, fraction: 0.25 }
              defense.aggregator: [fedavg, median]
              seed: [1, 2]
            """, in: scratch)
        let local = scratch + "/local"
        let localRun = try await SweepProcess.run(["sweep", sweep, "--out", local], outputPath: scratch + "/local.txt")
        #expect(localRun.status == 0, "\(localRun.output)")

        let count = try await SweepProcess.run(["sweep", sweep, "--count"], outputPath: scratch + "/count.txt")
        // 4 attacked cells and 4 attack-off baselines (one per aggregator and seed).
        #expect(count.output.trimmingCharacters(in: .whitespacesAndNewlines) == "8")
        let listing = try await SweepProcess.run(["sweep", sweep, "--list"], outputPath: scratch + "/list.txt")
        #expect(listing.output.contains("8 cells (4 axis combinations + 4 attack-off baselines)"), "\(listing.output)")
        // Cells run "anywhere": even indices in one folder, odd in another, then gathered.
        for index in 0..<8 {
            let node = scratch + (index % 2 == 0 ? "/node-a" : "/node-b")
            let cell = try await SweepProcess.run(["sweep", sweep, "--cell", String(index), "--out", node], outputPath: scratch + "/cell-\(index).txt")
            #expect(cell.status == 0, "\(cell.output)")
        }
        let gathered = scratch + "/gathered"
        try FileManager.default.createDirectory(atPath: gathered, withIntermediateDirectories: true)
        for node in ["/node-a", "/node-b"] {
            for entry in try FileManager.default.contentsOfDirectory(atPath: scratch + node) {
                try FileManager.default.moveItem(atPath: scratch + node + "/" + entry, toPath: gathered + "/" + entry)
            }
        }
        let collect = try await SweepProcess.run(["sweep", sweep, "--collect", gathered], outputPath: scratch + "/collect.txt")
        #expect(collect.status == 0, "\(collect.output)")

        // Same table except the seconds column (wall time varies); same models, bit for bit.
        func withoutSeconds(_ folder: String) throws -> [String] {
            try String(contentsOfFile: folder + "/table.md", encoding: .utf8).split(separator: "\n").map { line in
                line.hasPrefix("|") ? line.split(separator: "|", omittingEmptySubsequences: false).dropLast(2).joined(separator: "|") : String(line)
            }
        }
        let localTable = try withoutSeconds(local)
        #expect(localTable == (try withoutSeconds(gathered)))
        #expect(localTable.contains { $0.contains("flip") && $0.contains("median") })
        func models(_ folder: String) throws -> [String: String] {
            Dictionary(uniqueKeysWithValues: try SweepProcess.cellRecords(in: folder).map { ($0["name"] as! String, $0["model_sha256"] as? String ?? "") })
        }
        let localModels = try models(local)
        #expect(localModels.count == 8 && localModels.values.allSatisfy { $0.count == 64 })
        #expect(localModels == (try models(gathered)))
        try? FileManager.default.removeItem(atPath: scratch)
    }
}
