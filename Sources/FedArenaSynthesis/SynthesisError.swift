/// The error the synthesis helpers (``PNGWriter``, ``Fidelity``, ``SynthesisDemo``,
/// ``RecursiveGeneration``) throw; generators themselves throw Core's `GeneratorError`.
public struct SynthesisError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What went wrong.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable { case invalidArgument, generatorFailed, ioError, compressionFailed }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// An argument out of range or shapes that disagree.
        public static let invalidArgument = Code(.invalidArgument)
        /// A generator's `fit` or `sample` threw; the message carries its reason.
        public static let generatorFailed = Code(.generatorFailed)
        /// A file could not be written.
        public static let ioError = Code(.ioError)
        /// zlib refused to compress.
        public static let compressionFailed = Code(.compressionFailed)

        public var description: String {
            switch wrapped {
            case .invalidArgument: "invalid argument"
            case .generatorFailed: "generator failed"
            case .ioError: "I/O error"
            case .compressionFailed: "compression failed"
            }
        }
    }

    /// The kind of failure.
    public var code: Code
    /// Why.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
