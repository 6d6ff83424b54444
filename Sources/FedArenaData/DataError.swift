/// The error FedArenaData throws: a missing dataset, a malformed or unreadable file, or an
/// impossible request (more clients than samples, α ≤ 0, ...).
///
/// The ``description`` names the file (when there is one) and the reason, e.g.
/// `/data/train-labels-idx1-ubyte.gz: malformed file: truncated: expected 60000 bytes of data, got 512`.
public struct DataError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case missingDataset, malformedFile, unsupportedFormat, ioError, invalidArgument
        }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// The dataset's files are not where they were looked for.
        public static let missingDataset = Code(.missingDataset)
        /// A file's bytes contradict its format: bad magic, truncated, trailing data, corrupt
        /// compressed stream, a label out of range.
        public static let malformedFile = Code(.malformedFile)
        /// A well-formed file in a variant this reader does not handle (an IDX dtype other than
        /// unsigned byte, an NPY dtype other than `<f4`, Fortran order, NPY version 3).
        public static let unsupportedFormat = Code(.unsupportedFormat)
        /// The operating system refused to open, read or write a file.
        public static let ioError = Code(.ioError)
        /// A request that cannot be met (more clients than samples, α ≤ 0, q outside [0, 1], ...).
        public static let invalidArgument = Code(.invalidArgument)

        public var description: String {
            switch wrapped {
            case .missingDataset: "missing dataset"
            case .malformedFile: "malformed file"
            case .unsupportedFormat: "unsupported format"
            case .ioError: "I/O error"
            case .invalidArgument: "invalid argument"
            }
        }
    }

    /// The kind of failure.
    public var code: Code
    /// A sentence giving the reason, with the numbers involved.
    public var message: String
    /// The file concerned, when there is one.
    public var path: String?

    /// Creates an error.
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - message: The reason, with the numbers involved.
    ///   - path: The file concerned, if any.
    public init(_ code: Code, _ message: String, path: String? = nil) {
        self.code = code
        self.message = message
        self.path = path
    }

    public var description: String {
        if let path { return "\(path): \(code): \(message)" }
        return "\(code): \(message)"
    }

    /// An ``Code/invalidArgument`` error naming `parameter`.
    static func invalidArgument(_ parameter: String, _ reason: String) -> DataError {
        DataError(.invalidArgument, "\(parameter): \(reason)")
    }
}
