/// A validated scenario: everything a coordinator and its clients need to run.
///
/// `FedArenaScenarios` builds it from YAML (rejecting unknown keys and impossible values); the
/// runtime never parses YAML. It is `Codable` so the coordinator can hand the resolved
/// scenario to clients in its WELCOME message: a client needs only the coordinator's endpoint.
public struct ScenarioConfig: Sendable, Equatable, Codable {
    /// A name for the run (used in outputs).
    public var name: String
    /// The master seed; every random choice of the run derives from it.
    public var seed: UInt64
    /// Which data, how it is split, and the coordinator's root set.
    public var dataset: DatasetConfig
    /// The model architecture.
    public var model: ModelSpec
    /// Local and global training hyper-parameters.
    public var training: TrainingConfig
    /// How many clients, how many train per round, and how many OS processes host them.
    public var clients: ClientsConfig
    /// The attack, if any: its `kind` and options (fraction, knowledge, schedule, ...), read
    /// by the attack registry.
    public var attack: ComponentSpec?
    /// The robust aggregation rule and detectors.
    public var defense: DefenseConfig
    /// Where the coordinator listens, and its deadlines.
    public var transport: TransportConfig
    /// What the run writes besides the standard outputs.
    public var output: OutputConfig

    /// Creates a scenario.
    public init(
        name: String, seed: UInt64, dataset: DatasetConfig, model: ModelSpec, training: TrainingConfig,
        clients: ClientsConfig, defense: DefenseConfig, transport: TransportConfig, output: OutputConfig
    ) {
        self.name = name
        self.seed = seed
        self.dataset = dataset
        self.model = model
        self.training = training
        self.clients = clients
        self.attack = nil
        self.defense = defense
        self.transport = transport
        self.output = output
    }
}

/// The dataset section of a scenario.
///
/// After ``FedArenaScenarios`` has validated a scenario, ``shape`` and ``classCount`` are the
/// dataset's real ones (declared, or read from the files), and every path is absolute, so the
/// runtime builds the model (`inputs = featureCount`) and the plug-ins from this value alone.
public struct DatasetConfig: Sendable, Equatable, Codable {
    /// The dataset name: `fashion-mnist` (the built-in one), `npy` or `csv` (your own data, see ``files``).
    public var name: String
    /// A folder holding the IDX `.gz` files, or `nil` for `FEDARENA_DATA` / the Debian package
    /// (`fashion-mnist` only).
    public var directory: String?
    /// The files of an `npy` or `csv` dataset (`nil` for `fashion-mnist`).
    public var files: DatasetFiles?
    /// The shape of one sample: `[channels, height, width]` for images, `[features]` for tabular
    /// data (`[1, 28, 28]` for Fashion-MNIST).
    public var shape: [Int]
    /// The number of classes; labels are `0..<classCount`.
    public var classCount: Int
    /// How the training set is split among clients.
    public var partition: PartitionSpec
    /// How many training samples the coordinator keeps as its root set (disjoint from clients').
    public var rootSamples: Int
    /// Use only the first `trainSubset` training samples (for quick tests), or all.
    public var trainSubset: Int?
    /// Evaluate on the first `testSubset` test samples, or all of them.
    public var testSubset: Int?

    /// Creates a dataset section.
    public init(
        name: String = "fashion-mnist", directory: String? = nil, files: DatasetFiles? = nil, shape: [Int] = [1, 28, 28],
        classCount: Int = 10, partition: PartitionSpec = .iid, rootSamples: Int = 0, trainSubset: Int? = nil,
        testSubset: Int? = nil
    ) {
        self.name = name
        self.directory = directory
        self.files = files
        self.shape = shape
        self.classCount = classCount
        self.partition = partition
        self.rootSamples = rootSamples
        self.trainSubset = trainSubset
        self.testSubset = testSubset
    }

    /// Values per sample: the product of ``shape`` (784 for Fashion-MNIST).
    public var featureCount: Int { shape.reduce(1, *) }

    /// The side of the square single-channel images (`28` for `[1, 28, 28]` or `[28, 28]`), or
    /// `nil` when the samples are not such images (tabular, several channels, not square).
    public var squareImageSide: Int? {
        switch shape.count {
        case 3 where shape[0] == 1 && shape[1] == shape[2]: shape[1]
        case 2 where shape[0] == shape[1]: shape[0]
        default: nil
        }
    }

    /// Whether the samples are images (`[channels, height, width]` or `[height, width]`), not tabular.
    public var isImage: Bool { shape.count >= 2 }
}

/// The files of your own dataset (`dataset.name: npy` or `csv`), all paths absolute once validated.
public struct DatasetFiles: Sendable, Equatable, Codable {
    /// The training features: an `.npy` array `[count, ...shape]`, or a `.csv` with one sample per row.
    public var train: String
    /// The training labels (`.npy`, one integer class per sample); `nil` for CSV (labels are a column).
    public var trainLabels: String?
    /// The test features.
    public var test: String
    /// The test labels (`.npy`); `nil` for CSV.
    public var testLabels: String?
    /// CSV only: which column holds the label.
    public var labelColumn: CSVColumn
    /// CSV only: whether the first line names the columns (and is not a sample).
    public var header: Bool

    /// Creates a file set.
    public init(
        train: String, trainLabels: String? = nil, test: String, testLabels: String? = nil,
        labelColumn: CSVColumn = .name("label"), header: Bool = true
    ) {
        self.train = train
        self.trainLabels = trainLabels
        self.test = test
        self.testLabels = testLabels
        self.labelColumn = labelColumn
        self.header = header
    }
}

/// A CSV column, by header name or by 0-based position.
public enum CSVColumn: Sendable, Equatable, Codable, CustomStringConvertible {
    /// The column whose header is this name (the file must have a header line).
    case name(String)
    /// The column at this 0-based position.
    case index(Int)

    public var description: String {
        switch self {
        case .name(let name): "column \"\(name)\""
        case .index(let index): "column \(index)"
        }
    }
}

/// How the training samples are split among clients.
public enum PartitionSpec: Sendable, Equatable, Codable, CustomStringConvertible {
    /// A seeded uniform permutation cut into equal parts.
    case iid
    /// Per client, class proportions drawn from Dirichlet(α) (Hsu et al. 2019).
    case dirichlet(alpha: Double)
    /// Sorted by label, cut into `shardsPerClient * clients` shards, dealt at random
    /// (McMahan et al. 2017).
    case shards(shardsPerClient: Int)
    /// FLTrust's bias: a sample of label l goes to group l with probability q, else to one of
    /// the other groups uniformly, then to a uniform client of its group (Cao et al. 2021).
    case biasQ(q: Double)
    /// Sorted by label (ties by index) and cut into one contiguous part per client, in client
    /// order (Karimireddy, He and Jaggi 2022): the most skewed split, no randomness.
    case sorted

    public var description: String {
        switch self {
        case .iid: "iid"
        case .dirichlet(let alpha): "dirichlet(alpha=\(alpha))"
        case .shards(let count): "shards(\(count) per client)"
        case .biasQ(let q): "bias(q=\(q))"
        case .sorted: "sorted"
        }
    }
}

/// The model architecture; parameters are always one flat float32 vector.
public enum ModelSpec: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Multinomial logistic regression.
    case softmax
    /// A ReLU multi-layer perceptron with the given hidden widths.
    case mlp(hidden: [Int])
    /// A layered network (convolutions, pooling, dense, dropout) ending in a dense layer to the
    /// class count, which is not listed; ``LayerSpec/fltrustCNN`` is the default.
    case cnn(layers: [LayerSpec])

    public var description: String {
        switch self {
        case .softmax: "softmax"
        case .mlp(let hidden): "mlp(" + hidden.map(String.init).joined(separator: "-") + ")"
        case .cnn(let layers): "cnn(" + layers.map(\.description).joined(separator: "-") + ")"
        }
    }

    /// Checks the architecture against one sample's shape and the class count.
    /// - Parameters:
    ///   - inputShape: one sample's shape: `[channels, height, width]`, `[height, width]` (one
    ///     channel) or `[features]`.
    ///   - classes: the number of classes, positive.
    /// - Returns: the shape after each listed layer (for `.cnn`; empty for the dense models, which
    ///   take any shape as its flattened feature count).
    /// - Throws: ``ConfigError`` `.invalidValue` at `model.layers[i]` naming the layer and the
    ///   shape it got, or at `model` for an impossible input shape or class count.
    public func layerShapes(inputShape: [Int], classes: Int) throws(ConfigError) -> [[Int]] {
        guard (1...3).contains(inputShape.count), inputShape.allSatisfy({ $0 >= 1 }) else {
            throw ConfigError(
                .invalidValue, keyPath: "model",
                "a sample's shape must be [features], [height, width] or [channels, height, width] with positive sizes, got \(inputShape)")
        }
        guard classes >= 1 else {
            throw ConfigError(.invalidValue, keyPath: "model", "the class count must be positive, got \(classes)")
        }
        guard case .cnn(let layers) = self else { return [] }
        var shapes = [[Int]]()
        var shape = inputShape.count == 2 ? [1] + inputShape : inputShape
        for (index, layer) in layers.enumerated() {
            do throws(ConfigError) {
                shape = try layer.outputShape(input: shape)
            } catch {
                throw ConfigError(.invalidValue, keyPath: "model.layers[\(index)]", "\(layer.kind) layer: \(error.message)")
            }
            shapes.append(shape)
        }
        return shapes
    }
}

/// Local and global training hyper-parameters.
public struct TrainingConfig: Sendable, Equatable, Codable {
    /// Federated rounds.
    public var rounds: Int
    /// Local epochs per round.
    public var localEpochs: Int
    /// Local mini-batch size (the last partial batch is kept).
    public var batchSize: Int
    /// Local SGD learning rate.
    public var learningRate: Double
    /// Local SGD momentum (0 for plain SGD).
    public var momentum: Double
    /// Local L2 weight decay.
    public var weightDecay: Double
    /// The global learning rate `η_g` in `w_{t+1} = w_t + η_g Δ`.
    public var globalLearningRate: Double

    /// Creates a training section.
    public init(
        rounds: Int, localEpochs: Int = 1, batchSize: Int = 32, learningRate: Double = 0.05,
        momentum: Double = 0, weightDecay: Double = 0, globalLearningRate: Double = 1
    ) {
        self.rounds = rounds
        self.localEpochs = localEpochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.globalLearningRate = globalLearningRate
    }
}

/// Client population and process layout.
public struct ClientsConfig: Sendable, Equatable, Codable {
    /// Logical clients in the federation.
    public var count: Int
    /// Clients asked to train each round (sampled with the round's seed).
    public var perRound: Int
    /// Client OS processes launched locally; clients are dealt to them round-robin.
    public var processes: Int
    /// The least fraction of the round's selected clients whose updates must arrive before
    /// the deadline for the round to be applied.
    public var quorum: Double

    /// Creates a clients section.
    public init(count: Int, perRound: Int, processes: Int, quorum: Double = 0.5) {
        self.count = count
        self.perRound = perRound
        self.processes = processes
        self.quorum = quorum
    }
}

/// The defense section: detection and robust aggregation.
public struct DefenseConfig: Sendable, Equatable, Codable {
    /// The aggregation rule (with its `pre` chain inside its options).
    public var aggregator: ComponentSpec
    /// Synthetic-data and update detectors, in order.
    public var detection: [ComponentSpec]
    /// What a round too small for the rule's bound does: `median` (merge with the
    /// coordinate-wise median) or `skip` (keep the model).
    public var degraded: String
    /// How detector scores become decisions (`defense.detection_policy`: action, target FPR,
    /// calibration rounds, smoothing, ...), read by the detection registry.
    public var detectionPolicy: [String: ConfigValue] = [:]

    /// Creates a defense section.
    public init(
        aggregator: ComponentSpec = ComponentSpec(kind: "fedavg", keyPath: "defense.aggregator"), detection: [ComponentSpec] = [],
        degraded: String = "median"
    ) {
        self.aggregator = aggregator
        self.detection = detection
        self.degraded = degraded
    }
}

/// Where the coordinator listens and how long it waits.
public struct TransportConfig: Sendable, Equatable, Codable {
    /// The ZeroMQ endpoint the coordinator binds (`tcp://127.0.0.1:0` picks a free port).
    public var endpoint: String
    /// Seconds the coordinator waits for a round's updates before closing it.
    public var roundTimeoutSeconds: Double
    /// Seconds the coordinator waits for all client processes to say HELLO.
    public var connectTimeoutSeconds: Double
    /// Where the adversary process listens, for attacks that pool updates (set by the launcher
    /// for local runs; `attack.adversary_endpoint` across hosts).
    public var adversaryEndpoint: String?
    /// Whether every socket of the run uses CurveZMQ encryption and key authentication
    /// (`transport.curve`). `nil` leaves it to the command: off for a local `fedarena run`
    /// (which says so in its log), on for `fedarena coordinator` and `fedarena client`.
    public var curve: Bool?
    /// The folder `fedarena keys generate DIR` wrote (`transport.keys`): the coordinator reads
    /// `coordinator.key` and `allow-list.json` there, the adversary `adversary.key`. `nil` for
    /// a local run with CURVE makes the launcher generate keys inside the run folder.
    public var keysDirectory: String?
    /// The adversary process's CURVE public key (Z85), filled in by the coordinator before it
    /// sends the scenario in WELCOME, so malicious client processes can authenticate it.
    public var adversaryPublicKey: String?
    /// How clients encode their updates on the wire (`transport.compression`, default none).
    public var compression: UpdateCompression = .none
    /// Whether clients keep what a lossy ``compression`` lost and add it to their next update
    /// (`transport.error_feedback`, default true for a lossy encoding).
    public var errorFeedback: Bool = false

    /// Creates a transport section.
    public init(
        endpoint: String = "tcp://127.0.0.1:0", roundTimeoutSeconds: Double = 30, connectTimeoutSeconds: Double = 30,
        curve: Bool? = nil, keysDirectory: String? = nil
    ) {
        self.endpoint = endpoint
        self.roundTimeoutSeconds = roundTimeoutSeconds
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.curve = curve
        self.keysDirectory = keysDirectory
    }
}

/// Optional outputs.
public struct OutputConfig: Sendable, Equatable, Codable {
    /// Write every round's accepted client updates as `updates/round-NNNN.npy` (n x d).
    public var recordUpdates: Bool

    /// Creates an output section.
    public init(recordUpdates: Bool = false) {
        self.recordUpdates = recordUpdates
    }
}
