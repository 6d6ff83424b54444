import FedArenaCore
import FedArenaRuntime
import FedArenaScenarios
import Foundation
import Testing

@Suite struct ScenarioSchemaTests {
    static let minimal = """
        name: t
        seed: 7
        dataset: { name: fashion-mnist, partition: { kind: dirichlet, alpha: 0.5 }, root_samples: 100 }
        model: { kind: mlp, hidden: [64, 32] }
        training: { rounds: 3, lr: 0.1 }
        clients: { count: 20, per_round: 10, processes: 4 }
        defense:
          aggregator: { kind: fedavg }
        """

    func decode(_ yaml: String, overrides: [String] = []) throws(ConfigError) -> ScenarioConfig {
        var document = try ScenarioDocument(yaml: yaml, source: "test.yaml")
        for override in overrides { try document.apply(override: override) }
        return try ScenarioSchema.decode(document)
    }

    func error(_ yaml: String, overrides: [String] = []) -> ConfigError? {
        do {
            _ = try decode(yaml, overrides: overrides)
            return nil
        } catch {
            return error
        }
    }

    @Test func decodesEveryKeyWithDefaults() throws {
        let config = try decode(Self.minimal)
        #expect(config.name == "t")
        #expect(config.seed == 7)
        #expect(config.dataset.partition == .dirichlet(alpha: 0.5))
        #expect(config.dataset.rootSamples == 100)
        #expect(config.model == .mlp(hidden: [64, 32]))
        #expect(config.training.rounds == 3)
        #expect(config.training.learningRate == 0.1)
        #expect(config.training.batchSize == 32)
        #expect(config.training.localEpochs == 1)
        #expect(config.training.globalLearningRate == 1)
        #expect(config.clients == ClientsConfig(count: 20, perRound: 10, processes: 4, quorum: 0.5))
        #expect(config.defense.aggregator.kind == "fedavg")
        #expect(config.transport.endpoint == "tcp://127.0.0.1:0")
        #expect(config.transport.roundTimeoutSeconds == 30)
        #expect(config.output.recordUpdates == false)
    }

    @Test func overridesAreAppliedAndTyped() throws {
        let config = try decode(Self.minimal, overrides: ["training.rounds=5", "clients.count=30", "model.hidden=[10]", "defense.aggregator={kind: median}"])
        #expect(config.training.rounds == 5)
        #expect(config.clients.count == 30)
        #expect(config.model == .mlp(hidden: [10]))
        #expect(config.defense.aggregator.kind == "median")
    }

    @Test func unknownKeyIsNamedWithASuggestion() throws {
        let failure = try #require(error(Self.minimal.replacingOccurrences(of: "lr: 0.1", with: "lr: 0.1, local_epoch: 2")))
        #expect(failure.code == .unknownKey)
        #expect(failure.keyPath == "training.local_epoch")
        #expect(failure.description.contains("test.yaml"))
        #expect(failure.description.contains("did you mean \"local_epochs\""))
    }

    @Test func unknownKeyFromSetIsRejected() throws {
        let failure = try #require(error(Self.minimal, overrides: ["training.roundz=5"]))
        #expect(failure.code == .unknownKey)
        #expect(failure.keyPath == "training.roundz")
    }

    @Test func wrongTypeIsNamed() throws {
        let failure = try #require(error(Self.minimal.replacingOccurrences(of: "rounds: 3", with: "rounds: three")))
        #expect(failure.code == .wrongType)
        #expect(failure.keyPath == "training.rounds")
        #expect(failure.message.contains("expected an integer"))
    }

    @Test(arguments: [
        ("clients.per_round=21", "clients.per_round"),
        ("clients.processes=0", "clients.processes"),
        ("training.lr=-1", "training.lr"),
        ("training.rounds=0", "training.rounds"),
        ("dataset.partition.alpha=0", "dataset.partition.alpha"),
        ("clients.quorum=1.5", "clients.quorum"),
        ("dataset.partition.kind=dirichlett", "dataset.partition.kind"),
        ("transport.endpoint=localhost:5", "transport.endpoint"),
        ("dataset.train_subset=70000", "dataset.train_subset"),
        ("clients.count=59950", "clients.count"),
    ])
    func impossibleValuesAreRejected(override: String, keyPath: String) throws {
        let failure = try #require(error(Self.minimal, overrides: [override]))
        #expect(failure.keyPath == keyPath, "\(failure)")
        #expect(failure.file == "test.yaml")
    }

    @Test func missingSectionsAreNamed() throws {
        let failure = try #require(error("name: x\ndataset: {name: fashion-mnist}\ntraining: {rounds: 1}\n"))
        #expect(failure.code == .missingKey)
        #expect(failure.keyPath == "clients")
    }

    @Test func syntaxErrorsNameTheFile() throws {
        let failure = try #require(error("name: [unclosed\n"))
        #expect(failure.code == .unreadable)
        #expect(failure.description.hasPrefix("test.yaml: invalid YAML"))
    }

    @Test func badOverrideSyntaxIsRejected() throws {
        var document = try ScenarioDocument(yaml: Self.minimal, source: "test.yaml")
        #expect(throws: ConfigError.self) { try document.apply(override: "training.rounds") }
        #expect(throws: ConfigError.self) { try document.apply(override: "training..rounds=3") }
        #expect(throws: ConfigError.self) { try document.apply(override: "name.sub=3") }
    }

    @Test func resolvedTreeRoundTrips() throws {
        let config = try decode(Self.minimal)
        let yaml = ScenarioWriter.yaml(ScenarioSchema.resolvedTree(config))
        let again = try ScenarioSchema.decode(try ScenarioDocument(yaml: yaml, source: "resolved.yaml"))
        #expect(again == config)
    }

    @Test func cnnWithoutLayersIsFLTrustsNetwork() throws {
        let config = try decode(Self.minimal, overrides: ["model={kind: cnn}"])
        #expect(config.model == .cnn(layers: LayerSpec.fltrustCNN))
        #expect(
            LayerSpec.fltrustCNN == [
                .conv(kernel: 3, channels: 30, stride: 1, padding: 0), .relu, .maxPool(size: 2, stride: 2),
                .conv(kernel: 3, channels: 50, stride: 1, padding: 0), .relu, .maxPool(size: 2, stride: 2), .flatten,
                .dense(units: 100), .relu,
            ])
        #expect(try decode(Self.minimal, overrides: ["model={kind: softmax}"]).model == .softmax)
    }

    @Test func cnnLayersAreReadWithTheirDefaults() throws {
        let yaml = Self.minimal.replacingOccurrences(
            of: "model: { kind: mlp, hidden: [64, 32] }",
            with: """
                model:
                  kind: cnn
                  layers:
                    - { kind: conv, kernel: 5, channels: 8, padding: 2 }
                    - relu
                    - { kind: maxpool, size: 3, stride: 2 }
                    - { kind: conv, kernel: 3, channels: 4, stride: 2 }
                    - { kind: relu }
                    - flatten
                    - { kind: dense, units: 32 }
                    - { kind: dropout, rate: 0.25 }
                """)
        let config = try decode(yaml)
        #expect(
            config.model == .cnn(layers: [
                .conv(kernel: 5, channels: 8, stride: 1, padding: 2), .relu, .maxPool(size: 3, stride: 2),
                .conv(kernel: 3, channels: 4, stride: 2, padding: 0), .relu, .flatten, .dense(units: 32), .dropout(rate: 0.25),
            ]))
        let resolved = ScenarioWriter.yaml(ScenarioSchema.resolvedTree(config))
        #expect(try ScenarioSchema.decode(try ScenarioDocument(yaml: resolved, source: "resolved.yaml")) == config)
        // Clients receive the scenario as JSON.
        let json = try JSONEncoder().encode(config)
        #expect(try JSONDecoder().decode(ScenarioConfig.self, from: json) == config)
    }

    @Test(arguments: [
        ("model={kind: cnn, layers: [{kind: conv, kernel: 3}]}", "model.layers[0].channels", "is required"),
        ("model={kind: cnn, layers: [relu, {kind: conv, kernel: 3, channels: 0}]}", "model.layers[1].channels", "must be at least 1"),
        ("model={kind: cnn, layers: [{kind: conv, kernel: 3, channels: 4, padding: 3}]}", "model.layers[0].padding", "must be in 0...2"),
        ("model={kind: cnn, layers: [{kind: convv, kernel: 3}]}", "model.layers[0].kind", "did you mean \"conv\""),
        ("model={kind: cnn, layers: [{kind: dense, unit: 3}]}", "model.layers[0].unit", "unknown key for a dense layer (did you mean \"units\"?)"),
        ("model={kind: cnn, layers: [{kind: dense}]}", "model.layers[0].units", "is required"),
        ("model={kind: cnn, layers: [{kind: relu, rate: 3}]}", "model.layers[0].rate", "unknown key for a relu layer"),
        ("model={kind: cnn, layers: [maxpool]}", "model.layers[0]", "a maxpool layer needs options, e.g. { kind: maxpool, size: 2 }"),
        ("model={kind: cnn, layers: [3]}", "model.layers[0]", "expected a layer"),
        ("model={kind: cnn, layers: [{kind: dropout, rate: 1}]}", "model.layers[0].rate", "must be below 1"),
        ("model={kind: cnn, layers: []}", "model.layers", "at least one layer"),
        ("model={kind: cnn, hidden: [10]}", "model.hidden", "unknown key"),
        ("model={kind: mlp, layers: [relu]}", "model.layers", "unknown key"),
        // Shapes are checked against Fashion-MNIST's 1x28x28 samples.
        ("model={kind: cnn, layers: [{kind: conv, kernel: 29, channels: 2, padding: 0}]}", "model.layers[0]", "does not fit the 1x28x28 input"),
        ("model={kind: cnn, layers: [{kind: dense, units: 10}, {kind: maxpool, size: 2}]}", "model.layers[1]", "needs an image input"),
        ("model={kind: cnn, layers: [{kind: maxpool, size: 4}, {kind: maxpool, size: 4}, {kind: maxpool, size: 2}]}", "model.layers[2]", "window does not fit the 1x1x1 input"),
    ])
    func impossibleLayersNameTheirKeyPath(override: String, keyPath: String, message: String) throws {
        let failure = try #require(error(Self.minimal, overrides: [override]))
        #expect(failure.keyPath == keyPath, "\(failure)")
        #expect(failure.message.contains(message), "\(failure)")
        #expect(failure.file == "test.yaml")
    }

    /// Own data: the layers are checked against the files' sample shape.
    @Test func cnnLayersAreCheckedAgainstTheDatasetShape() throws {
        let images = try ScenarioSchemaDatasetTests.Fixture(sample: [1, 2, 2])
        let npy = ScenarioSchemaDatasetTests.npy
        let fits = try images.decode(dataset: npy, overrides: ["model={kind: cnn, layers: [{kind: conv, kernel: 2, channels: 3}, relu]}"])
        #expect(fits.model == .cnn(layers: [.conv(kernel: 2, channels: 3, stride: 1, padding: 0), .relu]))
        let tooSmall = try #require(images.error(dataset: npy, overrides: ["model={kind: cnn}"]))
        #expect(tooSmall.keyPath == "model.layers[0]")
        #expect(tooSmall.message == "conv layer: its 3x3 kernel does not fit the 1x2x2 input with padding 0")
        let tabular = try ScenarioSchemaDatasetTests.Fixture(sample: [4])
        let flat = try #require(tabular.error(dataset: npy, overrides: ["model={kind: cnn}"]))
        #expect(flat.keyPath == "model.layers[0]")
        #expect(flat.message.contains("needs an image input [channels, height, width], got [4]"))
        #expect(try tabular.decode(dataset: npy, overrides: ["model={kind: cnn, layers: [{kind: dense, units: 3}, relu]}"]).model == .cnn(layers: [.dense(units: 3), .relu]))
    }

    @Test func shippedScenariosAreValid() throws {
        let root = URLPaths.packageRoot + "/scenarios"
        // Sweep files (scenarios/sweeps, scenarios/papers) are checked cell by cell in SweepPlanTests.
        let files = (FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? [])
            .filter { $0.hasSuffix(".yaml") && !$0.hasPrefix("sweeps/") && !$0.hasPrefix("papers/") }
        #expect(files.count >= 17, "\(files)")
        for name in files {
            let config = try ScenarioSchema.decode(try ScenarioDocument(contentsOf: "\(root)/\(name)"))
            #expect(config.training.rounds >= 1)
            if case .failure(let error) = Preflight.check(config) { Issue.record("\(name): \(error)") }
        }
    }

    @Test func preflightNamesTheRuleBound() throws {
        let config = try decode(Self.minimal, overrides: ["defense.aggregator={kind: krum, f: 5}"])
        guard case .failure(let error) = Preflight.check(config) else {
            Issue.record("krum with n = 10, f = 5 was accepted")
            return
        }
        #expect(error.keyPath == "defense.aggregator.f")
        #expect(error.message.contains("n > 2f + 2"))
        let fltrust = try decode(Self.minimal, overrides: ["defense.aggregator=fltrust", "dataset.root_samples=0"])
        guard case .failure(let rootError) = Preflight.check(fltrust) else {
            Issue.record("fltrust without a root set was accepted")
            return
        }
        #expect(rootError.keyPath == "dataset.root_samples")
    }

    @Test func compressionKeysDecodeWithDefaultsAndAreCheckedTogether() throws {
        #expect(try decode(Self.minimal).transport.compression == UpdateCompression.none)
        let half = try decode(Self.minimal, overrides: ["transport.compression=float16"])
        #expect(half.transport.compression == .float16 && half.transport.errorFeedback)
        let int8 = try decode(Self.minimal, overrides: ["transport.compression=int8", "transport.compression_block=64", "transport.error_feedback=false"])
        #expect(int8.transport.compression == .int8(blockSize: 64) && !int8.transport.errorFeedback)
        #expect(try decode(Self.minimal, overrides: ["transport.compression=int8"]).transport.compression == .int8(blockSize: 256))
        // The resolved scenario names them, and reads back to the same values.
        let tree = ScenarioSchema.resolvedTree(int8)
        guard case .object(let root) = tree, case .object(let transport)? = root["transport"] else {
            Issue.record("no transport section")
            return
        }
        #expect(transport["compression"] == .string("int8") && transport["compression_block"] == .int(64))
        #expect(transport["error_feedback"] == .bool(false))

        for (overrides, keyPath) in [
            (["transport.compression=zip"], "transport.compression"),
            (["transport.compression=float16", "transport.compression_block=64"], "transport.compression_block"),
            (["transport.compression=int8", "transport.compression_block=0"], "transport.compression_block"),
            (["transport.error_feedback=true"], "transport.error_feedback"),
        ] {
            let failure = try #require(error(Self.minimal, overrides: overrides), "\(overrides)")
            #expect(failure.keyPath == keyPath, "\(failure)")
        }
    }
}

/// Locates the package root from this source file's path.
enum URLPaths {
    static let packageRoot: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()
}
