/// The error models, trainers and evaluators throw for input that does not fit the model or for
/// impossible hyper-parameters.
public struct ModelError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case featureCountMismatch, parameterCountMismatch, labelOutOfRange, emptyDataset, invalidConfiguration
        }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// The samples have a different number of features than the model's inputs.
        public static let featureCountMismatch = Code(.featureCountMismatch)
        /// A parameter vector has a different dimension than the model.
        public static let parameterCountMismatch = Code(.parameterCountMismatch)
        /// A label is negative or not below the model's class count.
        public static let labelOutOfRange = Code(.labelOutOfRange)
        /// The operation needs at least one sample.
        public static let emptyDataset = Code(.emptyDataset)
        /// A hyper-parameter or architecture value is impossible (non-positive batch size, ...).
        public static let invalidConfiguration = Code(.invalidConfiguration)

        public var description: String {
            switch wrapped {
            case .featureCountMismatch: "feature count mismatch"
            case .parameterCountMismatch: "parameter count mismatch"
            case .labelOutOfRange: "label out of range"
            case .emptyDataset: "empty dataset"
            case .invalidConfiguration: "invalid configuration"
            }
        }
    }

    /// The kind of failure.
    public var code: Code
    /// A sentence naming the model and the numbers involved.
    public var message: String

    /// Creates an error.
    /// - Parameters:
    ///   - code: the kind of failure.
    ///   - message: a sentence naming the numbers involved.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
