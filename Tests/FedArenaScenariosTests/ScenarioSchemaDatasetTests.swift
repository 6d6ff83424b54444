import FedArenaCore
import FedArenaData
import FedArenaRuntime
import FedArenaScenarios
import Foundation
import Testing

/// The `dataset:` section: your own data (npy, csv), relative paths, the inferred shape and class
/// count, the sorted partition, and the preflight refusals of plug-ins that need images.
@Suite struct ScenarioSchemaDatasetTests {
    /// A fresh folder with a tiny npy dataset under `data/`: 8 training and 4 test samples of
    /// shape `sample`, float32 values in [0, 1], labels 0 1 2 0 1 2 0 1 (test 2 1 0 2).
    final class Fixture {
        let folder: String

        init(sample: [Int] = [1, 2, 2], values: (Int) -> Float = { Float($0 % 5) / 4 }) throws {
            folder = NSTemporaryDirectory() + "fedarena-schema-dataset-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: folder + "/data", withIntermediateDirectories: true)
            let width = sample.reduce(1, *)
            try NPYFile.write((0..<(8 * width)).map(values), shape: [8] + sample, to: folder + "/data/x.npy")
            try NPYFile.write([0, 1, 2, 0, 1, 2, 0, 1], shape: [8], to: folder + "/data/y.npy")
            try NPYFile.write((0..<(4 * width)).map(values), shape: [4] + sample, to: folder + "/data/tx.npy")
            try NPYFile.write([2, 1, 0, 2], shape: [4], to: folder + "/data/ty.npy")
        }

        deinit { try? FileManager.default.removeItem(atPath: folder) }

        /// Writes a scenario with `dataset` (and `extra` sections) and decodes it from its file.
        func decode(dataset: String, extra: String = "", overrides: [String] = []) throws(ConfigError) -> ScenarioConfig {
            let path = folder + "/scenario.yaml"
            let yaml = """
                name: own
                dataset: \(dataset)
                model: { kind: softmax }
                training: { rounds: 1 }
                clients: { count: 4, per_round: 4, processes: 2 }
                \(extra)
                """
            do {
                try yaml.write(toFile: path, atomically: true, encoding: .utf8)
            } catch {
                throw ConfigError(.unreadable, keyPath: "", "cannot write the fixture: \(error)")
            }
            var document = try ScenarioDocument(contentsOf: path)
            for override in overrides { try document.apply(override: override) }
            return try ScenarioSchema.decode(document)
        }

        func error(dataset: String, extra: String = "", overrides: [String] = []) -> ConfigError? {
            do {
                _ = try decode(dataset: dataset, extra: extra, overrides: overrides)
                return nil
            } catch {
                return error
            }
        }
    }

    static let npy = "{ name: npy, train: data/x.npy, train_labels: data/y.npy, test: data/tx.npy, test_labels: data/ty.npy }"

    @Test func npyPathsResolveAgainstTheScenarioFolderAndShapeAndClassesAreInferred() throws {
        let fixture = try Fixture()
        let config = try fixture.decode(dataset: Self.npy)
        #expect(config.dataset.name == "npy")
        #expect(config.dataset.files?.train == fixture.folder + "/data/x.npy")
        #expect(config.dataset.files?.testLabels == fixture.folder + "/data/ty.npy")
        #expect(config.dataset.shape == [1, 2, 2])
        #expect(config.dataset.featureCount == 4)
        #expect(config.dataset.classCount == 3)
        // The resolved tree (what scenario.yaml records) decodes to the same scenario.
        let again = try ScenarioSchema.decode(
            try ScenarioDocument(yaml: ScenarioWriter.yaml(ScenarioSchema.resolvedTree(config)), source: "resolved.yaml"))
        #expect(again == config)
    }

    @Test func declaredShapeAndClassesWin() throws {
        let fixture = try Fixture()
        let config = try fixture.decode(dataset: Self.npy, overrides: ["dataset.shape=[4]", "dataset.classes=5"])
        #expect(config.dataset.shape == [4])
        #expect(config.dataset.classCount == 5)
    }

    @Test func csvDatasetsReadTheirLabelColumn() throws {
        let fixture = try Fixture()
        let rows = (0..<8).map { "0.\($0),\($0 % 2),\(Double($0) * 1.5)" }.joined(separator: "\n")
        try ("f0,y,f1\n" + rows + "\n").write(toFile: fixture.folder + "/data/t.csv", atomically: true, encoding: .utf8)
        let config = try fixture.decode(
            dataset: "{ name: csv, train: data/t.csv, test: data/t.csv, label_column: y, partition: { kind: sorted } }")
        #expect(config.dataset.shape == [2])
        #expect(config.dataset.classCount == 2)
        #expect(config.dataset.files?.labelColumn == .name("y"))
        #expect(config.dataset.files?.header == true)
        #expect(config.dataset.partition == .sorted)
        let again = try ScenarioSchema.decode(
            try ScenarioDocument(yaml: ScenarioWriter.yaml(ScenarioSchema.resolvedTree(config)), source: "resolved.yaml"))
        #expect(again == config)
    }

    @Test func dataMistakesNameTheKeyTheFileAndTheReason() throws {
        let fixture = try Fixture()
        let missing = fixture.error(dataset: Self.npy, overrides: ["dataset.train=data/absent.npy"])
        #expect(missing?.keyPath == "dataset.train")
        #expect(missing?.code == .unreadable)
        #expect(missing?.message.hasPrefix(fixture.folder + "/data/absent.npy: I/O error: cannot open for reading") == true)
        let classes = fixture.error(dataset: Self.npy, overrides: ["dataset.classes=2"])
        #expect(classes?.keyPath == "dataset.train_labels")
        #expect(classes?.message == "\(fixture.folder)/data/y.npy: malformed file: label 2 at sample 2 is not a class 0..<2 (dataset.classes)")
        let shape = fixture.error(dataset: Self.npy, overrides: ["dataset.shape=[3]"])
        #expect(shape?.keyPath == "dataset.train")
        #expect(shape?.message.contains("samples of shape [1, 2, 2] do not match dataset.shape [3]") == true)
        let tooMany = fixture.error(dataset: Self.npy, overrides: ["clients.count=9"])
        #expect(tooMany?.keyPath == "clients.count")
        #expect(tooMany?.message.contains("the 8 training samples available") == true)
    }

    @Test func keysOfAnotherKindOfDatasetAreRefused() throws {
        let fixture = try Fixture()
        let notFashion = fixture.error(dataset: "{ name: fashion-mnist, train: x.npy }")
        #expect(notFashion?.keyPath == "dataset.train")
        #expect(notFashion?.message == "applies to npy and csv datasets only")
        let pathOnNPY = fixture.error(dataset: Self.npy, overrides: ["dataset.path=/tmp"])
        #expect(pathOnNPY?.message == "applies to fashion-mnist only (the folder of its IDX files)")
        let noLabels = fixture.error(dataset: "{ name: npy, train: data/x.npy, test: data/tx.npy, test_labels: data/ty.npy }")
        #expect(noLabels?.keyPath == "dataset.train_labels")
        #expect(noLabels?.code == .missingKey)
        let csvLabels = fixture.error(dataset: "{ name: csv, train: a.csv, test: b.csv, train_labels: y.npy }")
        #expect(csvLabels?.message == "a csv dataset holds its labels in a column: use label_column")
        let column = fixture.error(dataset: "{ name: csv, train: a.csv, test: b.csv, label_column: -1 }")
        #expect(column?.keyPath == "dataset.label_column")
    }

    // MARK: - Preflight: plug-ins that need images

    func preflight(_ config: ScenarioConfig) -> ConfigError? {
        if case .failure(let error) = Preflight.check(config) { return error }
        return nil
    }

    @Test func backdoorsNeedSquareSingleChannelImages() throws {
        let tabular = try Fixture(sample: [4])
        let config = try tabular.decode(dataset: Self.npy, extra: "attack: { kind: backdoor, fraction: 0.25 }")
        let refused = preflight(config)
        #expect(refused?.keyPath == "attack.kind")
        #expect(refused?.message.contains("dataset.shape [4] is tabular") == true)

        let color = try Fixture(sample: [3, 2, 2])
        let synthetic = try color.decode(
            dataset: Self.npy, extra: "attack: { kind: synthetic-poison, fraction: 0.25, poison: { kind: backdoor } }")
        #expect(preflight(synthetic)?.keyPath == "attack.poison.kind")

        // Square single-channel images are fine, with the trigger inside them.
        let square = try Fixture(sample: [1, 5, 5])
        #expect(preflight(try square.decode(dataset: Self.npy, extra: "attack: { kind: backdoor, fraction: 0.25 }")) == nil)
    }

    @Test func auditC2STNeedsImageData() throws {
        let tabular = try Fixture(sample: [4])
        let config = try tabular.decode(
            dataset: Self.npy, extra: "defense: { detection: [ { kind: audit-c2st } ] }", overrides: ["dataset.root_samples=2"])
        let refused = preflight(config)
        #expect(refused?.keyPath == "defense.detection[0].kind")
        #expect(refused?.message.contains("wire format requires in [0, 1]") == true)
    }

    @Test func attacksSeeTheDatasetsClassCount() throws {
        let fixture = try Fixture()
        // Three classes: label-flip's target 2 exists, 3 does not.
        let fine = try fixture.decode(dataset: Self.npy, extra: "attack: { kind: label-flip, source: 0, target: 2, fraction: 0.25 }")
        #expect(preflight(fine) == nil)
        let beyond = try fixture.decode(dataset: Self.npy, extra: "attack: { kind: label-flip, source: 0, target: 3, fraction: 0.25 }")
        #expect(preflight(beyond)?.keyPath.hasPrefix("attack") == true)
    }
}
