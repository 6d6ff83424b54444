/// The error an ``Aggregator`` throws for impossible parameters or unusable input.
public struct AggregationError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case invalidConfiguration, tooFewUpdates, dimensionMismatch, nonFinite, missingReference, invalidInput
        }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// A rule parameter is impossible on its own (negative f, β ≥ 0.5, ...).
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// The round has fewer updates than the rule's bound needs.
        public static let tooFewUpdates = Code(.tooFewUpdates)
        /// Updates (or the reference) have different dimensions.
        public static let dimensionMismatch = Code(.dimensionMismatch)
        /// An update holds NaN or infinity.
        public static let nonFinite = Code(.nonFinite)
        /// The rule needs a reference update (FLTrust) or previous aggregate that is absent.
        public static let missingReference = Code(.missingReference)
        /// The round itself is malformed: a client twice, a weight outside [0, 1].
        public static let invalidInput = Code(.invalidInput)

        public var description: String {
            switch wrapped {
            case .invalidConfiguration: "invalid configuration"
            case .tooFewUpdates: "too few updates"
            case .dimensionMismatch: "dimension mismatch"
            case .nonFinite: "non-finite input"
            case .missingReference: "missing reference"
            case .invalidInput: "invalid input"
            }
        }
    }

    /// The kind of failure.
    public var code: Code
    /// A sentence naming the rule, the numbers and the bound.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
