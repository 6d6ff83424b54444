import FedArenaCore
import FedArenaScenarios
import Foundation
import Testing

@Suite struct SweepPlanTests {
    static let base = """
        base:
          name: b
          seed: 1
          dataset: { name: fashion-mnist, train_subset: 2000 }
          model: { kind: softmax }
          training: { rounds: 2 }
          clients: { count: 10, per_round: 10, processes: 2 }
        """

    func plan(_ yaml: String) throws(SweepError) -> SweepPlan {
        try SweepPlan.expand(try SweepFile(yaml: yaml, source: "sweeps/test.yaml"))
    }

    func failure(_ yaml: String) -> SweepError? {
        do {
            _ = try plan(yaml)
            return nil
        } catch {
            return error
        }
    }

    @Test func productRunsTheLastAxisFastestWithLabelledFolderNames() throws {
        let plan = try plan(Self.base + """

            axes:
              defense.aggregator: [fedavg, median, { kind: trimmed-mean, beta: 0.1 }]
              seed: [1, 2]
            """)
        // 3 x 2 = 6 cells, no attack so no baselines.
        #expect(plan.cells.map(\.name) == [
            "aggregator-fedavg__seed-1", "aggregator-fedavg__seed-2", "aggregator-median__seed-1",
            "aggregator-median__seed-2", "aggregator-trimmed-mean__seed-1", "aggregator-trimmed-mean__seed-2",
        ])
        #expect(plan.cells.map(\.index) == Array(0..<6))
        #expect(plan.cells.map(\.seed) == [1, 2, 1, 2, 1, 2])
        #expect(plan.cells[4].config.defense.aggregator.kind == "trimmed-mean")
        #expect(plan.cells[4].config.defense.aggregator.options["beta"] == .double(0.1))
        #expect(plan.cells.allSatisfy { $0.role == .cell && $0.baseline == nil })
        #expect(plan.cells[0].config.name == "test-aggregator-fedavg__seed-1")
    }

    @Test func zipGroupsVaryTogetherAndExcludeRulesLeaveCellsOut() throws {
        let plan = try plan(Self.base + """

            axes:
              clients.count: [10, 20]
              clients.per_round: [10, 20]
              training.rounds: [2, 3]
            zip: [[clients.count, clients.per_round]]
            exclude:
              - { clients.count: 20, training.rounds: 3 }
            """)
        // (10,10) x {2,3} + (20,20) x {2}: the zipped pair is one dimension of 2.
        #expect(plan.cells.map { [$0.config.clients.count, $0.config.clients.perRound, $0.config.training.rounds] } == [
            [10, 10, 2], [10, 10, 3], [20, 20, 2],
        ])
    }

    @Test func attackOffBaselinesAreSharedByHashAndAddedOnlyWhenNoCellProvidesThem() throws {
        let withNone = try plan(Self.base + """

            axes:
              attack:
                none: none
                flip: { kind: sign-flip, fraction: 0.2 }
                noise: { kind: gaussian, fraction: 0.2 }
              seed: [1, 2]
            """)
        // The none cells are the baselines: cells 0, 1 (seeds 1, 2).
        #expect(withNone.cells.count == 6)
        #expect(withNone.cells.map(\.baseline) == [nil, nil, 0, 1, 0, 1])

        let without = try plan(Self.base + """

            axes:
              attack:
                flip: { kind: sign-flip, fraction: 0.2 }
                noise: { kind: gaussian, fraction: 0.2 }
              seed: [1, 2]
            """)
        // 4 combinations and one extra attack-off run per seed, shared by both attacks.
        #expect(without.cells.count == 6)
        #expect(without.cells[4].role == .baseline && without.cells[4].name == "baseline__seed-1")
        #expect(without.cells[5].name == "baseline__seed-2")
        #expect(without.cells[4].config.attack == nil)
        #expect(without.cells.prefix(4).map(\.baseline) == [4, 5, 4, 5])
        // The same attack-off scenario has the same identity in both plans.
        #expect(without.cells[4].hash == withNone.cells[0].hash)
    }

    @Test func theHashIgnoresTheNameAndChangesOnlyForTheCellsAnEditTouches() throws {
        let first = try plan(Self.base + """

            axes:
              training.rounds: [2, 3]
              seed: [1, 2]
            """)
        let edited = try plan(Self.base + """

            axes:
              training.rounds: [2, 4]
              seed: [1, 2]
            """)
        #expect(first.cells.map(\.hash).count == Set(first.cells.map(\.hash)).count)
        #expect(Array(first.cells.prefix(2).map(\.hash)) == Array(edited.cells.prefix(2).map(\.hash)))
        #expect(Set(first.cells.suffix(2).map(\.hash)).isDisjoint(with: edited.cells.suffix(2).map(\.hash)))
        #expect(first.cells.allSatisfy { $0.hash.count == 64 })
        // Renaming the sweep changes names, not identities.
        let renamed = try plan("name: other\n" + Self.base + """

            axes:
              training.rounds: [2, 3]
              seed: [1, 2]
            """)
        #expect(renamed.cells.map(\.hash) == first.cells.map(\.hash))
    }

    @Test func invalidCellsAreAllReportedWithTheFileTheCellAndTheAxis() throws {
        let error = try #require(failure(Self.base + """

            axes:
              defense.aggregator: [median, { kind: krum, f: 4 }]
              seed: [1, 2]
            """))
        #expect(error.code == .invalidCell)
        // n = 10, f = 4: Krum needs n > 2f + 2 = 10; both seeds of the krum value fail.
        #expect(error.message.contains("2 of 4 cells do not validate"), "\(error)")
        #expect(error.message.contains("sweeps/test.yaml: cell 2 (aggregator-krum__seed-1): axis defense.aggregator = krum"), "\(error)")
        #expect(error.message.contains("sweeps/test.yaml: cell 3 (aggregator-krum__seed-2)"), "\(error)")
        #expect(!error.message.contains("cell 0"))
    }

    /// Every shipped sweep expands with every cell valid; the benchmark has 12 attacks x 12
    /// defenses x 3 seeds less Fang's attack on the 10 rules it is not defined for (30 cells).
    @Test func shippedSweepsExpandWithEveryCellValid() throws {
        let root = URLPaths.packageRoot + "/scenarios/sweeps"
        let files = try FileManager.default.contentsOfDirectory(atPath: root).filter { $0.hasSuffix(".yaml") }
        #expect(files.contains("fmnist-matrix.yaml"))
        for name in files {
            let plan = try SweepPlan.expand(try SweepFile(contentsOf: "\(root)/\(name)"))
            #expect(!plan.cells.isEmpty, "\(name)")
            if name == "fmnist-matrix.yaml" {
                #expect(plan.cells.count == 12 * 12 * 3 - 30)
                #expect(plan.cells.allSatisfy { $0.role == .cell })
                #expect(plan.cells.allSatisfy { $0.config.dataset.partition == .dirichlet(alpha: 0.5) })
                #expect(Set(plan.cells.map(\.seed)) == [1, 2, 3])
            }
        }
    }

    /// The papers' settings (scenarios/papers) expand with every cell valid and keep the
    /// papers' client counts, partitions and axes (see each file's header).
    @Test func papersSweepsExpandWithEveryCellValid() throws {
        let root = URLPaths.packageRoot + "/scenarios/papers"
        let fltrust = try SweepPlan.expand(try SweepFile(contentsOf: "\(root)/fltrust-cao2021.yaml"))
        // 5 attacks (none included) x 5 defenses x 3 seeds; Fang's attacks against every rule.
        #expect(fltrust.cells.count == 5 * 5 * 3)
        #expect(fltrust.cells.allSatisfy { $0.role == .cell && $0.config.clients.count == 100 })
        #expect(fltrust.cells.allSatisfy { $0.config.dataset.partition == .biasQ(q: 0.5) && $0.config.dataset.rootSamples == 100 })
        #expect(Set(fltrust.cells.map(\.seed)) == [1, 2, 3])
        let bucketing = try SweepPlan.expand(try SweepFile(contentsOf: "\(root)/bucketing-karimireddy2022.yaml"))
        // 6 attacks (none included) x 4 rules x (without, with bucketing) x 3 seeds.
        #expect(bucketing.cells.count == 6 * 8 * 3)
        #expect(bucketing.cells.allSatisfy { $0.config.clients.count == 25 && $0.config.dataset.partition == .sorted })
        #expect(Set(bucketing.cells.map(\.seed)) == [1, 2, 3])
    }
}
