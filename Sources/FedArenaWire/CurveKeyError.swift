/// A CURVE key, key file or allow-list that cannot be made, read or used.
///
/// Every message names the file (or key) and the reason, so a user can fix a key folder
/// without reading code.
public struct CurveKeyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case unsupported, invalidKey, unreadable, malformed, duplicate, writeFailed, missingEntry
        }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// This libzmq was built without CURVE (`zmq_has("curve")` is false).
        public static let unsupported = Code(.unsupported)
        /// A key is not 40 Z85 characters encoding 32 bytes.
        public static let invalidKey = Code(.invalidKey)
        /// A key file or allow-list cannot be read.
        public static let unreadable = Code(.unreadable)
        /// A key file or allow-list is not in the expected format.
        public static let malformed = Code(.malformed)
        /// An allow-list lists a public key or a process index twice.
        public static let duplicate = Code(.duplicate)
        /// A key file or allow-list cannot be written.
        public static let writeFailed = Code(.writeFailed)
        /// A key folder lacks a key the run needs (another process count, a missing file).
        public static let missingEntry = Code(.missingEntry)

        public var description: String {
            switch wrapped {
            case .unsupported: "CURVE unsupported"
            case .invalidKey: "invalid key"
            case .unreadable: "unreadable key file"
            case .malformed: "malformed key file"
            case .duplicate: "duplicate allow-list entry"
            case .writeFailed: "key file write failed"
            case .missingEntry: "missing key"
            }
        }
    }

    /// The kind of failure.
    public var code: Code
    /// What went wrong, naming the file or key.
    public var message: String
    /// The underlying error, if any (a Foundation I/O or JSON error).
    public var cause: (any Error & Sendable)?

    /// Creates an error.
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - message: What went wrong, naming the file or key.
    ///   - cause: The underlying error.
    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String { "\(code): \(message)" }

    public static func == (lhs: CurveKeyError, rhs: CurveKeyError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message
    }
}
