import FedArenaCore
import FedArenaScenarios
import Foundation
import Testing

@Suite struct SweepFileTests {
    func failure(_ yaml: String) -> SweepError? {
        do {
            _ = try SweepPlan.expand(try SweepFile(yaml: yaml, source: "sweeps/test.yaml"))
            return nil
        } catch {
            return error
        }
    }

    @Test func sweepFileMistakesNameTheKey() {
        let cases: [(String, String)] = [
            (SweepPlanTests.base + "\naxes:\n  seed: 3\n", "axes.seed: expected a list"),
            (SweepPlanTests.base + "\naxes:\n  seed: []\n", "axes.seed: has no values"),
            (SweepPlanTests.base + "\naxes:\n  seed: [1]\nzip: [[seed, rounds]]\n", "zip[0]: rounds is not an axis"),
            (SweepPlanTests.base + "\naxes:\n  seed: [1]\nexclude:\n  - { seed: 7 }\n", "exclude[0].seed: \"7\" is not a label"),
            (SweepPlanTests.base + "\naxes:\n  seed: [1, 2]\n  clients.count: [10]\nzip: [[seed, clients.count]]\n", "need as many values each"),
            (SweepPlanTests.base + "\naxes:\n  attack: [{kind: sign-flip, fraction: 0.1}, {kind: sign-flip, fraction: 0.2}]\n", "both get the label \"sign-flip\""),
            (SweepPlanTests.base + "\nsweep_axes: {}\n", "sweep_axes: unknown key"),
            ("axes:\n  seed: [1]\n", "base: is required"),
            (SweepPlanTests.base + "\naxes:\n  training.rounds.value: [1]\n", "a parent of training.rounds.value is not a mapping"),
            (SweepPlanTests.base + "\naxes:\n  seed: [1]\nexclude:\n  - { seed: 1 }\n", "the rules leave no cell"),
        ]
        for (yaml, expected) in cases {
            let error = failure(yaml)
            #expect(error?.message.contains(expected) == true, "expected \(expected), got \(String(describing: error))")
            #expect(error?.message.contains("sweeps/test.yaml") == true, "\(String(describing: error))")
        }
    }

    @Test func baseByPathIsRelativeToTheSweepFileAndSetOverridesIt() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fedarena-sweepfile-\(getpid())")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("scenarios"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try """
            name: b
            dataset: { name: fashion-mnist, train_subset: 2000 }
            training: { rounds: 9 }
            clients: { count: 10 }
            """.write(to: folder.appendingPathComponent("scenarios/base.yaml"), atomically: true, encoding: .utf8)
        let sweepPath = folder.appendingPathComponent("sweeps/s.yaml").path
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("sweeps"), withIntermediateDirectories: true)
        try "base: ../scenarios/base.yaml\nset: { training.rounds: 2 }\naxes:\n  seed: [5, 6]\n".write(toFile: sweepPath, atomically: true, encoding: .utf8)
        let plan = try SweepPlan.expand(try SweepFile(contentsOf: sweepPath))
        #expect(plan.file.name == "s")
        #expect(plan.cells.map(\.config.training.rounds) == [2, 2])
        #expect(plan.cells.map(\.seed) == [5, 6])
        #expect(plan.cells[0].yaml.contains("rounds: 2"))
    }

    @Test func labelsOfListValuesAreReadableAndPortable() {
        #expect(SweepAxis.label(of: .double(0.25)) == "0.25")
        #expect(SweepAxis.label(of: .object(["kind": .string("multi-krum"), "f": .int(2)])) == "multi-krum")
        #expect(SweepAxis.label(of: .array([.int(100), .int(50)])) == "100-50")
        #expect(SweepAxis.label(of: .string("a/b c")) == "a-b-c")
        #expect(SweepAxis.sanitized("..") == "-..")
    }
}
