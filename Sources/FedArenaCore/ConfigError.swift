/// A mistake in a scenario: an unknown key, a wrong type, or an impossible value.
///
/// The description names the file, the key path and the reason, e.g.
/// `scenarios/x.yaml: defense.aggregator.f: krum needs n > 2f + 2, got n = 10, f = 5`.
public struct ConfigError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What kind of mistake this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable { case unknownKey, wrongType, invalidValue, missingKey, unreadable }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// A key the schema does not know (a typo, usually).
        public static let unknownKey = Code(.unknownKey)
        /// A value of the wrong type.
        public static let wrongType = Code(.wrongType)
        /// A value out of its allowed range, or impossible together with others.
        public static let invalidValue = Code(.invalidValue)
        /// A required key is absent.
        public static let missingKey = Code(.missingKey)
        /// The file cannot be read or parsed.
        public static let unreadable = Code(.unreadable)

        public var description: String {
            switch wrapped {
            case .unknownKey: "unknown key"
            case .wrongType: "wrong type"
            case .invalidValue: "invalid value"
            case .missingKey: "missing key"
            case .unreadable: "unreadable"
            }
        }
    }

    /// The kind of mistake.
    public var code: Code
    /// The dotted key path (`training.rounds`), or empty for the whole file.
    public var keyPath: String
    /// Why the value is rejected.
    public var message: String
    /// The scenario file, when known.
    public var file: String?

    /// Creates an error.
    public init(_ code: Code, keyPath: String, _ message: String, file: String? = nil) {
        self.code = code
        self.keyPath = keyPath
        self.message = message
        self.file = file
    }

    public var description: String {
        var parts = [String]()
        if let file { parts.append(file) }
        if !keyPath.isEmpty { parts.append(keyPath) }
        parts.append(message)
        return parts.joined(separator: ": ")
    }

    /// The same error attributed to `file`.
    public func inFile(_ file: String) -> ConfigError {
        var copy = self
        copy.file = file
        return copy
    }
}
