import FedArenaCore
import FedArenaData
import Foundation

/// The scenario schema: turns a ``ScenarioDocument`` tree into a typed ``ScenarioConfig``,
/// rejecting unknown keys, wrong types and impossible values with their key paths.
///
/// The keys and their defaults are documented in the README's scenario reference; this type
/// is the single place that defines them.
public enum ScenarioSchema {
    /// Reads and validates a scenario.
    /// - Parameter document: the parsed file with overrides applied.
    /// - Returns: the typed scenario.
    /// - Throws: ``ConfigError`` naming the file, the key path and the reason.
    public static func decode(_ document: ScenarioDocument) throws(ConfigError) -> ScenarioConfig {
        do {
            return try decode(tree: document.tree, baseDirectory: document.directory)
        } catch {
            throw error.inFile(document.source)
        }
    }

    /// Reads and validates a scenario tree.
    /// - Parameters:
    ///   - tree: The scenario.
    ///   - baseDirectory: The folder relative dataset paths resolve against (the scenario
    ///     file's), or `nil` for the working directory.
    /// - Returns: The typed scenario, its dataset shape and class count resolved from the files.
    /// - Throws: ``ConfigError`` naming the key path and the reason.
    static func decode(tree: ConfigValue, baseDirectory: String? = nil) throws(ConfigError) -> ScenarioConfig {
        let root = try ConfigReader(tree, path: "")
        let name = try root.string("name", default: "scenario")
        let seed = try root.int("seed", default: 0, range: 0...Int.max)

        guard let datasetReader = try root.child("dataset") else {
            throw ConfigError(.missingKey, keyPath: "dataset", "is required (for example: dataset: { name: fashion-mnist })")
        }
        let (dataset, trainCount) = try readDataset(datasetReader, baseDirectory: baseDirectory)
        let model = try readModel(try root.child("model"))
        guard let trainingReader = try root.child("training") else {
            throw ConfigError(.missingKey, keyPath: "training", "is required (at least training.rounds)")
        }
        let training = try readTraining(trainingReader)
        guard let clientsReader = try root.child("clients") else {
            throw ConfigError(.missingKey, keyPath: "clients", "is required (at least clients.count)")
        }
        let clients = try readClients(clientsReader)
        var attack: ComponentSpec?
        if let value = root.raw("attack") {
            let spec = try component(value, path: "attack")
            if spec.kind != "none" { attack = spec }
        }
        let defense = try readDefense(try root.child("defense"))
        let transport = try readTransport(try root.child("transport"))
        let output = try readOutput(try root.child("output"))
        try root.finish()

        // The architecture against the data's sample shape and class count.
        _ = try model.layerShapes(inputShape: dataset.shape, classes: dataset.classCount)

        if dataset.rootSamples + clients.count > trainCount {
            throw ConfigError(
                .invalidValue, keyPath: "clients.count",
                "\(clients.count) clients plus \(dataset.rootSamples) root samples need more than the \(trainCount) training samples available")
        }
        var config = ScenarioConfig(
            name: name, seed: UInt64(seed), dataset: dataset, model: model, training: training, clients: clients,
            defense: defense, transport: transport, output: output)
        config.attack = attack
        return config
    }

    /// The `dataset:` section: `name` (`fashion-mnist`, `npy`, `csv`), the files of your own
    /// data, `shape`, `classes`, `partition`, `root_samples`, `train_subset`, `test_subset`.
    ///
    /// Relative paths resolve against `baseDirectory`. The files of an `npy` or `csv` dataset
    /// are checked here (``DatasetSource/describe(_:declaredShape:declaredClasses:environment:)``),
    /// so a wrong shape, a NaN or a label out of range is reported before any process starts.
    /// - Returns: The section, with its shape and class count resolved, and the training sample count.
    private static func readDataset(_ reader: ConfigReader, baseDirectory: String?) throws(ConfigError) -> (DatasetConfig, Int) {
        let name = try reader.string("name", default: "fashion-mnist", allowed: DatasetSource.names)
        let ownData = name != "fashion-mnist"
        func path(_ key: String) throws(ConfigError) -> String? {
            guard let value = try reader.optionalString(key) else { return nil }
            if value.isEmpty { throw reader.error(key, "is an empty path") }
            return resolve(value, against: baseDirectory)
        }
        // Keys that belong to another kind of dataset are refused with the reason, not a did-you-mean.
        let fileKeys = ["train", "train_labels", "test", "test_labels", "label_column", "header"]
        for key in (ownData ? ["path"] : fileKeys) where reader.contains(key) {
            throw reader.error(key, ownData ? "applies to fashion-mnist only (the folder of its IDX files)" : "applies to npy and csv datasets only")
        }
        for key in ["train_labels", "test_labels"] where name == "csv" && reader.contains(key) {
            throw reader.error(key, "a csv dataset holds its labels in a column: use label_column")
        }
        for key in ["label_column", "header"] where name == "npy" && reader.contains(key) {
            throw reader.error(key, "applies to csv datasets only")
        }
        let directory = try path("path")
        var files: DatasetFiles?
        if ownData {
            func required(_ key: String, _ example: String) throws(ConfigError) -> String {
                guard let value = try path(key) else {
                    throw reader.error(key, "is required for a \(name) dataset (e.g. \(key): \(example))", code: .missingKey)
                }
                return value
            }
            let suffix = name == "npy" ? ".npy" : ".csv"
            var set = DatasetFiles(train: try required("train", "train\(suffix)"), test: try required("test", "test\(suffix)"))
            if name == "npy" {
                set.trainLabels = try required("train_labels", "train_labels.npy")
                set.testLabels = try required("test_labels", "test_labels.npy")
            } else {
                switch reader.raw("label_column") {
                case nil: break
                case .string(let column)? where !column.isEmpty: set.labelColumn = .name(column)
                case .int(let index)? where index >= 0: set.labelColumn = .index(index)
                case let other?:
                    throw reader.error("label_column", "expected a column name or a 0-based index, got \(other.typeName) \(other)")
                }
                set.header = try reader.bool("header", default: true)
            }
            files = set
        }
        let declaredShape: [Int]? = reader.contains("shape") ? try reader.intArray("shape", elementsAtLeast: 1) : nil
        _ = reader.raw("shape")
        let declaredClasses = try reader.optionalInt("classes", atLeast: 2)
        var partition = PartitionSpec.iid
        if let partitionReader = try reader.child("partition") {
            let kind = try partitionReader.string("kind", allowed: ["iid", "dirichlet", "shards", "bias", "sorted"])
            switch kind {
            case "dirichlet": partition = .dirichlet(alpha: try partitionReader.positiveDouble("alpha"))
            case "shards": partition = .shards(shardsPerClient: try partitionReader.int("shards_per_client", default: 2, atLeast: 1))
            case "bias": partition = .biasQ(q: try partitionReader.double("q", range: 0...1))
            case "sorted": partition = .sorted
            default: partition = .iid
            }
            try partitionReader.finish()
        }
        let rootSamples = try reader.int("root_samples", default: 0, atLeast: 0)
        let trainSubset = try reader.optionalInt("train_subset", atLeast: 1)
        let testSubset = try reader.optionalInt("test_subset", atLeast: 1)
        try reader.finish()
        var dataset = DatasetConfig(
            name: name, directory: directory, files: files, partition: partition, rootSamples: rootSamples,
            trainSubset: trainSubset, testSubset: testSubset)
        let description: DatasetDescription
        do {
            description = try DatasetSource.describe(dataset, declaredShape: declaredShape, declaredClasses: declaredClasses)
        } catch {
            throw ConfigError(
                error.code == .ioError || error.code == .missingDataset ? .unreadable : .invalidValue,
                keyPath: datasetKey(of: error, files: files, reader: reader), "\(error)")
        }
        dataset.shape = description.shape
        dataset.classCount = description.classCount
        return (dataset, description.trainCount)
    }

    /// `value` as an absolute path: unchanged when absolute, else under `base` (or the working directory).
    static func resolve(_ value: String, against base: String?) -> String {
        if value.hasPrefix("/") { return value }
        let folder = base ?? FileManager.default.currentDirectoryPath
        return URL(fileURLWithPath: folder, isDirectory: true).appendingPathComponent(value).standardizedFileURL.path
    }

    /// The dataset key a data error is about: the file's key, or the key it names.
    private static func datasetKey(of error: DataError, files: DatasetFiles?, reader: ConfigReader) -> String {
        if let path = error.path, let files {
            let keys: [(String, String?)] = [
                ("train", files.train), ("train_labels", files.trainLabels), ("test", files.test), ("test_labels", files.testLabels),
            ]
            if let key = keys.first(where: { $0.1 == path })?.0 { return reader.keyPath(key) }
        }
        for key in ["shape", "classes", "train_subset", "test_subset", "label_column"] where error.message.hasPrefix("dataset.\(key)") {
            return reader.keyPath(key)
        }
        return reader.path
    }

    private static func readModel(_ reader: ConfigReader?) throws(ConfigError) -> ModelSpec {
        guard let reader else { return .mlp(hidden: [100]) }
        let kind = try reader.string("kind", default: "mlp", allowed: ["mlp", "softmax", "cnn"])
        let model: ModelSpec
        switch kind {
        case "mlp":
            let hidden = try reader.intArray("hidden", default: [100], elementsAtLeast: 1)
            if hidden.isEmpty { throw reader.error("hidden", "an MLP needs at least one hidden layer; use kind: softmax for none") }
            model = .mlp(hidden: hidden)
        case "cnn":
            if reader.contains("layers") {
                var layers = [LayerSpec]()
                for (path, value) in try reader.list("layers") { layers.append(try readLayer(value, path: path)) }
                if layers.isEmpty { throw reader.error("layers", "a CNN needs at least one layer; leave layers out for the default") }
                model = .cnn(layers: layers)
            } else {
                _ = reader.raw("layers")
                model = .cnn(layers: LayerSpec.fltrustCNN)
            }
        default:
            model = .softmax
        }
        try reader.finish()
        return model
    }

    /// One entry of `model.layers`: a mapping with a `kind`, or the bare name of a layer without
    /// options (`relu`, `flatten`).
    private static func readLayer(_ value: ConfigValue, path: String) throws(ConfigError) -> LayerSpec {
        let kinds = ["conv", "maxpool", "relu", "dense", "dropout", "flatten"]
        let reader: ConfigReader
        let kind: String
        switch value {
        case .string(let name):
            reader = try ConfigReader(.object(["kind": .string(name)]), path: path)
            kind = try reader.string("kind", allowed: kinds)
            if !["relu", "flatten"].contains(kind) {
                throw ConfigError(.invalidValue, keyPath: path, "a \(kind) layer needs options, e.g. \(Self.layerExample(kind))")
            }
        case .object:
            reader = try ConfigReader(value, path: path)
            kind = try reader.string("kind", allowed: kinds)
        default:
            throw ConfigError(.wrongType, keyPath: path, "expected a layer such as \(Self.layerExample("conv")) or relu, got \(value.typeName)")
        }
        // A misspelt option is named as such before a required one is reported missing.
        let options: [String: [String]] = [
            "conv": ["kernel", "channels", "stride", "padding"], "maxpool": ["size", "stride"], "dense": ["units"],
            "dropout": ["rate"], "relu": [], "flatten": [],
        ]
        let known = ["kind"] + (options[kind] ?? [])
        for key in reader.keys where !known.contains(key) {
            var message = "unknown key for a \(kind) layer"
            if let guess = ConfigReader.closest(to: key, in: known) { message += " (did you mean \"\(guess)\"?)" }
            throw ConfigError(.unknownKey, keyPath: reader.keyPath(key), message + "; known keys: \(known.joined(separator: ", "))")
        }
        let layer: LayerSpec
        switch kind {
        case "conv":
            let kernel = try reader.int("kernel", atLeast: 1)
            layer = .conv(
                kernel: kernel, channels: try reader.int("channels", atLeast: 1), stride: try reader.int("stride", default: 1, atLeast: 1),
                padding: try reader.int("padding", default: 0, range: 0...(kernel - 1)))
        case "maxpool":
            let size = try reader.int("size", atLeast: 1)
            layer = .maxPool(size: size, stride: try reader.int("stride", default: size, atLeast: 1))
        case "dense":
            layer = .dense(units: try reader.int("units", atLeast: 1))
        case "dropout":
            let rate = try reader.double("rate", range: 0...1)
            if rate >= 1 { throw reader.error("rate", "must be below 1 (1 drops everything), got \(rate)") }
            layer = .dropout(rate: rate)
        case "relu":
            layer = .relu
        default:
            layer = .flatten
        }
        try reader.finish()
        return layer
    }

    private static func layerExample(_ kind: String) -> String {
        switch kind {
        case "maxpool": "{ kind: maxpool, size: 2 }"
        case "dense": "{ kind: dense, units: 100 }"
        case "dropout": "{ kind: dropout, rate: 0.5 }"
        default: "{ kind: conv, kernel: 3, channels: 30 }"
        }
    }

    /// The layer list in the form ``readLayer(_:path:)`` reads back.
    private static func layerTree(_ layer: LayerSpec) -> ConfigValue {
        switch layer {
        case .conv(let kernel, let channels, let stride, let padding):
            .object([
                "kind": .string("conv"), "kernel": .int(kernel), "channels": .int(channels), "stride": .int(stride),
                "padding": .int(padding),
            ])
        case .maxPool(let size, let stride): .object(["kind": .string("maxpool"), "size": .int(size), "stride": .int(stride)])
        case .dense(let units): .object(["kind": .string("dense"), "units": .int(units)])
        case .dropout(let rate): .object(["kind": .string("dropout"), "rate": .double(rate)])
        case .relu: .string("relu")
        case .flatten: .string("flatten")
        }
    }

    private static func readTraining(_ reader: ConfigReader) throws(ConfigError) -> TrainingConfig {
        let training = TrainingConfig(
            rounds: try reader.int("rounds", range: 1...100_000),
            localEpochs: try reader.int("local_epochs", default: 1, range: 1...1_000),
            batchSize: try reader.int("batch_size", default: 32, range: 1...100_000),
            learningRate: try reader.positiveDouble("lr", default: 0.05),
            momentum: try reader.double("momentum", default: 0, range: 0...0.999_999),
            weightDecay: try reader.double("weight_decay", default: 0, range: 0...1),
            globalLearningRate: try reader.positiveDouble("global_lr", default: 1))
        try reader.finish()
        return training
    }

    private static func readClients(_ reader: ConfigReader) throws(ConfigError) -> ClientsConfig {
        let count = try reader.int("count", range: 1...100_000)
        let perRound = try reader.int("per_round", default: count, atLeast: 1)
        if perRound > count { throw reader.error("per_round", "cannot exceed clients.count (\(count)), got \(perRound)") }
        let processes = try reader.int("processes", default: min(count, 4), atLeast: 1)
        if processes > count { throw reader.error("processes", "cannot exceed clients.count (\(count)), got \(processes)") }
        let quorum = try reader.double("quorum", default: 0.5, range: 0...1)
        if quorum <= 0 { throw reader.error("quorum", "must be a fraction in (0, 1], got \(quorum)") }
        try reader.finish()
        return ClientsConfig(count: count, perRound: perRound, processes: processes, quorum: quorum)
    }

    private static func readDefense(_ reader: ConfigReader?) throws(ConfigError) -> DefenseConfig {
        guard let reader else { return DefenseConfig() }
        var aggregator = ComponentSpec(kind: "fedavg", keyPath: "defense.aggregator")
        if let value = reader.raw("aggregator") {
            aggregator = try component(value, path: reader.keyPath("aggregator"))
        }
        var detection = [ComponentSpec]()
        for (path, value) in try reader.list("detection") {
            detection.append(try component(value, path: path))
        }
        let degraded = try reader.string("degraded", default: "median", allowed: ["median", "skip"])
        var policy = [String: ConfigValue]()
        if let policyReader = try reader.child("detection_policy") {
            for key in policyReader.keys { policy[key] = policyReader.raw(key) }
        }
        try reader.finish()
        var defense = DefenseConfig(aggregator: aggregator, detection: detection, degraded: degraded)
        defense.detectionPolicy = policy
        return defense
    }

    private static func readTransport(_ reader: ConfigReader?) throws(ConfigError) -> TransportConfig {
        guard let reader else { return TransportConfig() }
        let endpoint = try reader.string("endpoint", default: "tcp://127.0.0.1:0")
        if !(endpoint.hasPrefix("tcp://") || endpoint.hasPrefix("ipc://")) {
            throw reader.error("endpoint", "expected a ZeroMQ endpoint such as tcp://127.0.0.1:0 or ipc:///tmp/fedarena.sock, got \"\(endpoint)\"")
        }
        let curve: Bool? = reader.contains("curve") ? try reader.bool("curve") : nil
        let keys = try reader.optionalString("keys")
        if let keys, keys.isEmpty {
            throw reader.error("keys", "expected the folder written by `fedarena keys generate DIR`, got an empty string")
        }
        if keys != nil, curve == false {
            throw reader.error("keys", "names CURVE keys but transport.curve is false; drop one of them")
        }
        var transport = TransportConfig(
            endpoint: endpoint,
            roundTimeoutSeconds: try reader.positiveDouble("round_timeout_s", default: 30),
            connectTimeoutSeconds: try reader.positiveDouble("connect_timeout_s", default: 30),
            curve: curve, keysDirectory: keys)
        let compression = try reader.string("compression", default: "none", allowed: ["none", "float16", "int8"])
        if reader.contains("compression_block"), compression != "int8" {
            throw reader.error("compression_block", "sets the int8 block size, but transport.compression is \(compression)")
        }
        let block = try reader.int(
            "compression_block", default: UpdateCompression.defaultBlockSize, range: 1...65_536)
        switch compression {
        case "float16": transport.compression = .float16
        case "int8": transport.compression = .int8(blockSize: block)
        default: transport.compression = .none
        }
        if reader.contains("error_feedback"), compression == "none" {
            throw reader.error("error_feedback", "keeps what a lossy encoding lost, but transport.compression is none")
        }
        transport.errorFeedback = try reader.bool("error_feedback", default: compression != "none")
        try reader.finish()
        return transport
    }

    private static func readOutput(_ reader: ConfigReader?) throws(ConfigError) -> OutputConfig {
        guard let reader else { return OutputConfig() }
        let output = OutputConfig(recordUpdates: try reader.bool("record_updates", default: false))
        try reader.finish()
        return output
    }

    /// A plug-in mapping (`{kind: krum, f: 10}`) or a bare name (`median`).
    static func component(_ value: ConfigValue, path: String) throws(ConfigError) -> ComponentSpec {
        switch value {
        case .string(let kind):
            return ComponentSpec(kind: kind, keyPath: path)
        case .object(var object):
            guard case .string(let kind)? = object.removeValue(forKey: "kind") else {
                throw ConfigError(.missingKey, keyPath: "\(path).kind", "is required and must be a string")
            }
            return ComponentSpec(kind: kind, options: object, keyPath: path)
        default:
            throw ConfigError(.wrongType, keyPath: path, "expected a mapping with a kind, got \(value.typeName)")
        }
    }

    /// The `transport` section of ``resolvedTree(_:)``: `curve` and `keys` only when set.
    private static func transportTree(_ transport: TransportConfig) -> [String: ConfigValue] {
        var tree: [String: ConfigValue] = [
            "endpoint": .string(transport.endpoint),
            "round_timeout_s": .double(transport.roundTimeoutSeconds),
            "connect_timeout_s": .double(transport.connectTimeoutSeconds),
        ]
        if let curve = transport.curve { tree["curve"] = .bool(curve) }
        if let keys = transport.keysDirectory { tree["keys"] = .string(keys) }
        if transport.compression != .none {
            tree["compression"] = .string(transport.compression.name)
            tree["error_feedback"] = .bool(transport.errorFeedback)
        }
        if case .int8(let blockSize) = transport.compression { tree["compression_block"] = .int(blockSize) }
        return tree
    }

    /// The scenario as a tree with every default filled in (what `scenario.yaml` records).
    public static func resolvedTree(_ config: ScenarioConfig) -> ConfigValue {
        var partition: [String: ConfigValue]
        switch config.dataset.partition {
        case .iid: partition = ["kind": .string("iid")]
        case .dirichlet(let alpha): partition = ["kind": .string("dirichlet"), "alpha": .double(alpha)]
        case .shards(let count): partition = ["kind": .string("shards"), "shards_per_client": .int(count)]
        case .biasQ(let q): partition = ["kind": .string("bias"), "q": .double(q)]
        case .sorted: partition = ["kind": .string("sorted")]
        }
        var dataset: [String: ConfigValue] = [
            "name": .string(config.dataset.name), "partition": .object(partition),
            "root_samples": .int(config.dataset.rootSamples),
            "shape": .array(config.dataset.shape.map { .int($0) }), "classes": .int(config.dataset.classCount),
        ]
        if let directory = config.dataset.directory { dataset["path"] = .string(directory) }
        if let files = config.dataset.files {
            dataset["train"] = .string(files.train)
            dataset["test"] = .string(files.test)
            if let labels = files.trainLabels { dataset["train_labels"] = .string(labels) }
            if let labels = files.testLabels { dataset["test_labels"] = .string(labels) }
            if config.dataset.name == "csv" {
                switch files.labelColumn {
                case .name(let name): dataset["label_column"] = .string(name)
                case .index(let index): dataset["label_column"] = .int(index)
                }
                dataset["header"] = .bool(files.header)
            }
        }
        if let subset = config.dataset.trainSubset { dataset["train_subset"] = .int(subset) }
        if let subset = config.dataset.testSubset { dataset["test_subset"] = .int(subset) }
        let model: ConfigValue
        switch config.model {
        case .softmax: model = .object(["kind": .string("softmax")])
        case .mlp(let hidden): model = .object(["kind": .string("mlp"), "hidden": .array(hidden.map { .int($0) })])
        case .cnn(let layers): model = .object(["kind": .string("cnn"), "layers": .array(layers.map(layerTree))])
        }
        let t = config.training
        var tree: [String: ConfigValue] = [
            "name": .string(config.name),
            "seed": .int(Int(config.seed)),
            "dataset": .object(dataset),
            "model": model,
            "training": .object([
                "rounds": .int(t.rounds), "local_epochs": .int(t.localEpochs), "batch_size": .int(t.batchSize),
                "lr": .double(t.learningRate), "momentum": .double(t.momentum), "weight_decay": .double(t.weightDecay),
                "global_lr": .double(t.globalLearningRate),
            ]),
            "clients": .object([
                "count": .int(config.clients.count), "per_round": .int(config.clients.perRound),
                "processes": .int(config.clients.processes), "quorum": .double(config.clients.quorum),
            ]),
            "defense": .object([
                "aggregator": config.defense.aggregator.asValue,
                "detection": .array(config.defense.detection.map(\.asValue)),
                "degraded": .string(config.defense.degraded),
                "detection_policy": .object(config.defense.detectionPolicy),
            ]),
            "transport": .object(transportTree(config.transport)),
            "output": .object(["record_updates": .bool(config.output.recordUpdates)]),
        ]
        if let attack = config.attack { tree["attack"] = attack.asValue }
        return .object(tree)
    }
}
