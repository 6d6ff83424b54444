/// A detector of poisoned or synthetic-data updates: it gives every client of a round a
/// suspicion score in [0, 1] with a human-readable reason, before the updates are merged.
///
/// ## Implementation requirements
/// - A `struct`, pure and deterministic given the generator it receives. State kept across
///   rounds (smoothing, histories) lives in ``DetectionContext/memory`` and comes back in
///   ``DetectionOutput/memory``, owned by the runtime.
/// - Returns a ``Suspicion`` for every update it was given (keyed by client), with a finite
///   score in [0, 1] and a reason a person can read ("loss on the root set rose by 0.41").
/// - Throws ``DetectionError`` for input it cannot use (a missing root set it needs, sketches
///   of the wrong shape); it never traps on what clients sent.
/// - Never sees raw client data: it decides from updates, sketches and the coordinator's own data.
public protocol Detector: Sendable {
    /// The YAML name (`root-audit`, `sketch-mmd`, `update-similarity`, ...).
    var name: String { get }
    /// Scores the round's updates.
    /// - Parameters:
    ///   - updates: the validated updates of the round, sorted by client.
    ///   - context: what the coordinator knows (global model, root set, sketches, memory).
    ///   - rng: the round's seeded generator.
    func detect(_ updates: [ClientUpdate], context: DetectionContext, using rng: inout some RandomNumberGenerator) throws(DetectionError) -> DetectionOutput

    /// What the detector needs the runtime to provide besides the updates: the coordinator's
    /// root update, client sketches (with their parameters), samples revealed by clients.
    /// The runtime reads this instead of knowing concrete detector types.
    var requirements: DetectorRequirements { get }
}

extension Detector {
    /// Most detectors need nothing but the updates and the coordinator's own data.
    public var requirements: DetectorRequirements { DetectorRequirements() }
}

/// What a ``Detector`` asks of the runtime.
public struct DetectorRequirements: Sendable, Equatable {
    /// The parameters of the data sketch clients must compute beside their update.
    public struct Sketch: Sendable, Equatable {
        /// The random-feature dimension D.
        public var dimension: Int
        /// The RBF bandwidth of the random features.
        public var bandwidth: Double
        /// Gaussian-mechanism noise (ε, δ) on the class means, or `nil` for none.
        public var noise: (epsilon: Double, delta: Double)?

        /// Creates sketch parameters.
        public init(dimension: Int, bandwidth: Double, noise: (epsilon: Double, delta: Double)? = nil) {
            self.dimension = dimension
            self.bandwidth = bandwidth
            self.noise = noise
        }

        public static func == (a: Sketch, b: Sketch) -> Bool {
            a.dimension == b.dimension && a.bandwidth == b.bandwidth && a.noise?.epsilon == b.noise?.epsilon
                && a.noise?.delta == b.noise?.delta
        }
    }

    /// Whether the coordinator must train on its root set each round (``DetectionContext/referenceUpdate``).
    public var rootUpdate: Bool
    /// The sketch clients must send, or `nil`.
    public var sketch: Sketch?
    /// How many training samples each client reveals per round (opt-in audits), or `nil`.
    /// With ``trainingAudit`` set, the runtime provides the verified opened batches instead of
    /// samples the client chose.
    public var revealedSamples: Int?
    /// The training audit clients must take part in (commitment with the UPDATE, CHALLENGE /
    /// OPENING), or `nil`.
    public var trainingAudit: TrainingAuditRequest?
    /// Whether the reference generators must leave part of the root set unseen (fitted on its
    /// even rows only, ``DetectionContext/referenceFittedOn``), for a null drawn from fresh real
    /// samples; otherwise they are fitted on all of it.
    public var referenceHoldout: Bool

    /// Creates requirements (none by default).
    public init(
        rootUpdate: Bool = false, sketch: Sketch? = nil, revealedSamples: Int? = nil, trainingAudit: TrainingAuditRequest? = nil,
        referenceHoldout: Bool = false
    ) {
        self.rootUpdate = rootUpdate
        self.sketch = sketch
        self.revealedSamples = revealedSamples
        self.trainingAudit = trainingAudit
        self.referenceHoldout = referenceHoldout
    }

    /// Whether anything at all is required.
    public var needsRootSet: Bool { rootUpdate || sketch != nil || revealedSamples != nil }

    /// The union of two detectors' requirements (the first sketch and audit and the largest sample count win).
    public func merged(with other: DetectorRequirements) -> DetectorRequirements {
        DetectorRequirements(
            rootUpdate: rootUpdate || other.rootUpdate, sketch: sketch ?? other.sketch,
            revealedSamples: [revealedSamples, other.revealedSamples].compactMap { $0 }.max(),
            trainingAudit: trainingAudit ?? other.trainingAudit, referenceHoldout: referenceHoldout || other.referenceHoldout)
    }
}

/// How many committed steps the coordinator opens per audited client and round
/// (``DetectorRequirements/trainingAudit``): the last step always (it binds the update), the
/// `largestSteps` steps of largest committed norm, and `randomSteps` drawn uniformly from the rest.
public struct TrainingAuditRequest: Sendable, Equatable {
    /// Steps drawn uniformly at random (after the UPDATE arrived).
    public var randomSteps: Int
    /// Steps of the largest committed norms.
    public var largestSteps: Int

    /// Creates a request.
    /// - Parameters:
    ///   - randomSteps: uniformly drawn steps.
    ///   - largestSteps: largest-norm steps.
    public init(randomSteps: Int, largestSteps: Int) {
        self.randomSteps = randomSteps
        self.largestSteps = largestSteps
    }

    /// The most steps one challenge opens (the last step included).
    public var maxOpened: Int { 1 + randomSteps + largestSteps }
}

/// How suspicious one client's update looks to one detector.
public struct Suspicion: Sendable, Equatable {
    /// In [0, 1]; higher is more suspicious.
    public var score: Double
    /// Why, for people ("cosine to the root update -0.21").
    public var reason: String
    /// The raw features behind the score (for fusion and the ledger).
    public var features: [String: Double]

    /// Creates a suspicion.
    public init(score: Double, reason: String, features: [String: Double] = [:]) {
        self.score = score
        self.reason = reason
        self.features = features
    }
}

/// What a detector returns: scores per client and the state to keep.
public struct DetectionOutput: Sendable, Equatable {
    /// One suspicion per client of the round.
    public var suspicions: [ClientID: Suspicion]
    /// The state for the next round (`nil` keeps the old memory).
    public var memory: AggregatorMemory?

    /// Creates an output.
    public init(suspicions: [ClientID: Suspicion], memory: AggregatorMemory? = nil) {
        self.suspicions = suspicions
        self.memory = memory
    }
}

/// A client's summary of the data it trained on, sent beside its update: per-class mean
/// embeddings under random Fourier features whose frequencies come from the round seed the
/// coordinator sends with TRAIN (so a generator cannot be fitted to them in advance), and the
/// label histogram.
public struct DataSketch: Sendable, Equatable {
    /// Classes x dimension values, row-major: the mean feature map of each class's samples
    /// (zeros for a class the client lacks).
    public var classEmbeddings: [Float]
    /// The embedding dimension D.
    public var dimension: Int
    /// Samples per class.
    public var labelHistogram: [Int]

    /// Creates a sketch.
    public init(classEmbeddings: [Float], dimension: Int, labelHistogram: [Int]) {
        self.classEmbeddings = classEmbeddings
        self.dimension = dimension
        self.labelHistogram = labelHistogram
    }
}

/// What a detector may use besides the updates.
public struct DetectionContext: Sendable {
    /// The round.
    public var round: Int
    /// The seed the coordinator sent with TRAIN (sketch frequencies derive from it).
    public var roundSeed: UInt64
    /// The global model the clients started from.
    public var globalModel: ParameterVector
    /// The coordinator's root set (may be empty).
    public var rootSet: LabeledSamples
    /// The coordinator's own update on its root set, if computed.
    public var referenceUpdate: ParameterVector?
    /// The sketches clients sent, by client.
    public var sketches: [ClientID: DataSketch]
    /// Training samples clients revealed (opt-in audits), by client; with a training audit,
    /// the batches of the steps that were opened and verified.
    public var revealedSamples: [ClientID: LabeledSamples]
    /// The training audit's verdict per client (when a detector asked for the audit).
    public var trainingAudits: [ClientID: TrainingAuditVerdict] = [:]
    /// Samples of the coordinator's reference generators fitted on its root set, for
    /// detectors that contrast revealed samples with known-synthetic ones.
    public var referenceSynthetic: LabeledSamples?
    /// The root-set rows the reference generators were fitted on, ascending; `nil` when they were
    /// not fitted on the root set. Rows outside it are real samples the generators never saw, the
    /// ones a null for fresh real data can be drawn from.
    public var referenceFittedOn: [Int]?
    /// What the detector kept from earlier rounds.
    public var memory: AggregatorMemory

    /// Creates a context.
    public init(
        round: Int, roundSeed: UInt64, globalModel: ParameterVector, rootSet: LabeledSamples, referenceUpdate: ParameterVector? = nil,
        sketches: [ClientID: DataSketch] = [:], revealedSamples: [ClientID: LabeledSamples] = [:],
        referenceSynthetic: LabeledSamples? = nil, referenceFittedOn: [Int]? = nil, memory: AggregatorMemory = AggregatorMemory()
    ) {
        self.revealedSamples = revealedSamples
        self.referenceFittedOn = referenceFittedOn
        self.referenceSynthetic = referenceSynthetic
        self.round = round
        self.roundSeed = roundSeed
        self.globalModel = globalModel
        self.rootSet = rootSet
        self.referenceUpdate = referenceUpdate
        self.sketches = sketches
        self.memory = memory
    }
}

/// The error a ``Detector`` throws.
public struct DetectionError: Error, Sendable, CustomStringConvertible {
    /// What is wrong, naming the detector.
    public var message: String

    /// Creates an error.
    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
