/// A data-poisoning attack: turns a malicious client's local samples into the poisoned set it
/// trains on (label flipping, a backdoor trigger, synthetic samples, ...).
///
/// ## Implementation requirements
/// - A `struct`, pure and deterministic given the generator it receives.
/// - `init` throws ``AttackError`` `.invalidConfiguration` for impossible parameters (a source
///   class outside `0..<classCount`, a rate outside [0, 1], a trigger that does not fit the
///   image).
/// - ``poison(_:using:)`` never traps on valid ``LabeledSamples``; it keeps `featureCount` and
///   `classCount`.
public protocol DataAttack: Sendable {
    /// The YAML name (`label-flip`, `backdoor`, ...).
    var name: String { get }
    /// What the attack is after, for the attack-success-rate metric.
    var objective: AttackObjective { get }
    /// Returns the samples the malicious client trains on.
    /// - Parameters:
    ///   - samples: the client's real local samples.
    ///   - rng: the client's seeded generator for this round.
    func poison(_ samples: LabeledSamples, using rng: inout some RandomNumberGenerator) throws(AttackError) -> LabeledSamples
}

/// A model-poisoning attack: crafts the updates the malicious clients send.
///
/// ## Implementation requirements
/// - A `struct`, pure and deterministic given the generator it receives.
/// - ``craft(_:using:)`` returns exactly one update per entry of
///   ``AttackContext/maliciousUpdates``, in the same order, of the same dimension.
/// - It reads only what its ``knowledge`` allows: ``AttackContext/benignUpdates`` is empty
///   under `.partial`.
public protocol UpdateAttack: Sendable {
    /// The YAML name (`sign-flip`, `alie`, `min-max`, ...).
    var name: String { get }
    /// What the attack is after, for the attack-success-rate metric.
    var objective: AttackObjective { get }
    /// The least knowledge the attack needs to run.
    var requiredKnowledge: AttackKnowledge { get }
    /// Crafts the malicious updates.
    /// - Parameters:
    ///   - context: the malicious clients' honest updates, what else the adversary knows, and the round.
    ///   - rng: the adversary's seeded generator for this round.
    /// - Returns: one update per malicious client, in the order of `context.maliciousUpdates`.
    func craft(_ context: AttackContext, using rng: inout some RandomNumberGenerator) throws(AttackError) -> [ParameterVector]
}

/// What an update attack may see, the knowledge levels of Fang et al. (2020).
public enum AttackKnowledge: String, Sendable, Comparable, Codable {
    /// Nothing but each client's own honest update (sign-flip, gaussian).
    case none
    /// The malicious clients' own honest updates, pooled by the adversary (`partial`).
    case partial
    /// Every client's honest update, shared by the coordinator: a simulation-only switch
    /// (`omniscient`).
    case omniscient

    private var order: Int {
        switch self {
        case .none: 0
        case .partial: 1
        case .omniscient: 2
        }
    }

    public static func < (lhs: AttackKnowledge, rhs: AttackKnowledge) -> Bool { lhs.order < rhs.order }
}

/// The inputs of ``UpdateAttack/craft(_:using:)``.
public struct AttackContext: Sendable {
    /// The round.
    public var round: Int
    /// The honest updates the malicious clients computed, in client order.
    public var maliciousUpdates: [ParameterVector]
    /// Honest clients' updates, when the knowledge level grants them (else empty).
    public var benignUpdates: [ParameterVector]
    /// The total number of updates the coordinator will merge (for ALIE's z).
    public var totalClients: Int
    /// The aggregation rule's name and its assumed `f`, when the attack targets a rule (Fang).
    public var targetRule: String?
    /// The rule's assumed number of Byzantine updates.
    public var assumedByzantine: Int?

    /// Creates a context.
    public init(
        round: Int, maliciousUpdates: [ParameterVector], benignUpdates: [ParameterVector] = [], totalClients: Int,
        targetRule: String? = nil, assumedByzantine: Int? = nil
    ) {
        self.round = round
        self.maliciousUpdates = maliciousUpdates
        self.benignUpdates = benignUpdates
        self.totalClients = totalClients
        self.targetRule = targetRule
        self.assumedByzantine = assumedByzantine
    }
}

/// What an attack is after, which decides its attack-success-rate metric (DESIGN.md).
public enum AttackObjective: Sendable, Equatable {
    /// Lower accuracy: reported as the accuracy drop against the same scenario with the attack
    /// off (`fedarena run --baseline`).
    case untargeted
    /// Source-class samples classified as the target: ASR = share of source-class test samples
    /// predicted as `target`.
    case targetedFlip(source: Int, target: Int)
    /// Backdoor: ASR = share of non-target test samples, trigger stamped, predicted as `target`.
    case backdoor(trigger: Trigger, target: Int)
}

/// A pixel-pattern backdoor trigger: a square patch of constant value.
public struct Trigger: Sendable, Equatable, Codable {
    /// Image width and height (28 for Fashion-MNIST).
    public var imageSide: Int
    /// Top-left row of the patch.
    public var row: Int
    /// Top-left column of the patch.
    public var column: Int
    /// Patch side in pixels.
    public var size: Int
    /// Pixel value written in the patch, in [0, 1].
    public var value: Float

    /// Creates a trigger.
    public init(imageSide: Int = 28, row: Int = 24, column: Int = 24, size: Int = 3, value: Float = 1) {
        self.imageSide = imageSide
        self.row = row
        self.column = column
        self.size = size
        self.value = value
    }

    /// Stamps the patch on every sample of `samples` (features must be `imageSide²` long).
    public func stamp(_ samples: inout LabeledSamples) {
        let side = imageSide
        let width = samples.featureCount
        let count = samples.count
        samples.features.withUnsafeMutableBufferPointer { features in
            for sample in 0..<count {
                let base = sample * width
                for r in row..<min(row + size, side) {
                    for c in column..<min(column + size, side) { features[base + r * side + c] = value }
                }
            }
        }
    }
}

/// The error an attack throws for impossible parameters or input it cannot use.
public struct AttackError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable { case invalidConfiguration, insufficientKnowledge, invalidInput }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// An attack parameter is impossible.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// The attack needs updates it was not given (knowledge level too low).
        public static let insufficientKnowledge = Code(.insufficientKnowledge)
        /// The input cannot be attacked (empty, mismatched dimensions).
        public static let invalidInput = Code(.invalidInput)

        public var description: String {
            switch wrapped {
            case .invalidConfiguration: "invalid configuration"
            case .insufficientKnowledge: "insufficient knowledge"
            case .invalidInput: "invalid input"
            }
        }
    }

    /// The kind of failure.
    public var code: Code
    /// What is wrong, naming the attack and the values.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
