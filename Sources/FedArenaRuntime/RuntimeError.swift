/// A failure that stops a coordinator or client run: a dataset that is missing, peers that
/// never connect, a protocol violation by the coordinator, an output that cannot be written.
///
/// What a client *sends* never produces this error on the coordinator: bad messages are
/// rejected, logged and recorded, and the round goes on.
public struct RuntimeError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case dataUnavailable, connectTimeout, coordinatorLost, protocolViolation, output, transport, configuration, launch, attack, clientFailed
            case interrupted
        }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// The dataset is missing or unreadable.
        public static let dataUnavailable = Code(.dataUnavailable)
        /// Not enough client processes said HELLO before the deadline.
        public static let connectTimeout = Code(.connectTimeout)
        /// A client heard nothing from its coordinator for too long.
        public static let coordinatorLost = Code(.coordinatorLost)
        /// The coordinator sent something a client cannot follow.
        public static let protocolViolation = Code(.protocolViolation)
        /// An output file could not be written.
        public static let output = Code(.output)
        /// A socket could not be bound or connected.
        public static let transport = Code(.transport)
        /// The scenario cannot run (an aggregator that cannot be built, ...).
        public static let configuration = Code(.configuration)
        /// A client process could not be started.
        public static let launch = Code(.launch)
        /// An attack could not craft or poison as the scenario says.
        public static let attack = Code(.attack)
        /// A client process could not serve a round as the scenario says (its report is the message).
        public static let clientFailed = Code(.clientFailed)
        /// The run was stopped by a signal (SIGINT, SIGTERM) before its last round.
        public static let interrupted = Code(.interrupted)

        public var description: String {
            switch wrapped {
            case .dataUnavailable: "data unavailable"
            case .connectTimeout: "connect timeout"
            case .coordinatorLost: "coordinator lost"
            case .protocolViolation: "protocol violation"
            case .output: "output error"
            case .transport: "transport error"
            case .configuration: "configuration error"
            case .launch: "launch error"
            case .attack: "attack error"
            case .clientFailed: "client process failed"
            case .interrupted: "interrupted"
            }
        }
    }

    /// The kind of failure.
    public var code: Code
    /// What happened, naming the file, peer or key involved.
    public var message: String
    /// The underlying error, if any.
    public var cause: (any Error & Sendable)?

    /// Creates an error.
    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String { message }
}
