/// A fault relay that cannot be configured or started.
public struct FaultRelayError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case invalidSchedule, invalidAddress, listenFailed
        }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// A delay, stall or cut value is impossible.
        public static let invalidSchedule = Code(.invalidSchedule)
        /// An address is not `IPv4:PORT`.
        public static let invalidAddress = Code(.invalidAddress)
        /// The listening socket cannot be made, bound or put to listen.
        public static let listenFailed = Code(.listenFailed)

        public var description: String {
            switch wrapped {
            case .invalidSchedule: "invalid fault schedule"
            case .invalidAddress: "invalid address"
            case .listenFailed: "cannot listen"
            }
        }
    }

    /// The kind of failure.
    public var code: Code
    /// What went wrong, naming the value or address.
    public var message: String

    /// Creates an error.
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - message: What went wrong, naming the value or address.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
