/// The error ``WireCodec/decode(_:limits:)`` throws for bytes that are not a valid message.
///
/// Every rejection names the field and the numbers involved, so a coordinator can log why a
/// peer's message was refused. The decoder never traps on hostile input: it throws this instead.
public struct WireError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of rejection this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case truncated, oversized, badMagic, unsupportedVersion, unknownType
            case checksumMismatch, dimensionMismatch, nonFinite, malformed
        }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// The bytes end before the header, the payload or a field inside the payload does.
        public static let truncated = Code(.truncated)
        /// The message, a string, a list or a vector is larger than ``DecodeLimits`` allow.
        public static let oversized = Code(.oversized)
        /// The first four bytes are not the FedArena wire magic.
        public static let badMagic = Code(.badMagic)
        /// The header's protocol version is not one this decoder reads.
        public static let unsupportedVersion = Code(.unsupportedVersion)
        /// The header's message type is not one of the known kinds.
        public static let unknownType = Code(.unknownType)
        /// The CRC-32 in the header does not match the bytes it covers.
        public static let checksumMismatch = Code(.checksumMismatch)
        /// A TRAIN model or UPDATE delta has another dimension than the expected parameter count.
        public static let dimensionMismatch = Code(.dimensionMismatch)
        /// A float in a vector, a loss or a metric is NaN or infinite.
        public static let nonFinite = Code(.nonFinite)
        /// Anything else that breaks the format: trailing bytes, invalid UTF-8, reserved flags,
        /// negative counts or indices, unsorted or duplicate metric keys.
        public static let malformed = Code(.malformed)

        public var description: String {
            switch wrapped {
            case .truncated: "truncated"
            case .oversized: "oversized"
            case .badMagic: "bad magic"
            case .unsupportedVersion: "unsupported version"
            case .unknownType: "unknown message type"
            case .checksumMismatch: "checksum mismatch"
            case .dimensionMismatch: "dimension mismatch"
            case .nonFinite: "non-finite value"
            case .malformed: "malformed"
            }
        }
    }

    /// The kind of rejection.
    public var code: Code
    /// A sentence naming the field, the offending value and the bound.
    public var message: String

    /// Creates an error.
    /// - Parameters:
    ///   - code: The kind of rejection.
    ///   - message: What was wrong, naming the field.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
