/// A failure of a sweep as a whole: a sweep file that cannot be read or expanded, a cell that
/// does not validate, a sweep folder that cannot be written.
///
/// A cell whose *run* fails is not this error: the sweep records it in the cell's folder and
/// in `cells.jsonl`, and goes on with the other cells.
public struct SweepError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable { case unreadable, invalidSweep, invalidCell, output, launch, interrupted }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// The sweep file (or its base scenario) cannot be read or parsed.
        public static let unreadable = Code(.unreadable)
        /// The sweep file's own keys are wrong: an unknown key, an empty axis, a zip group of
        /// unequal lengths, an exclude rule naming an unknown axis or label.
        public static let invalidSweep = Code(.invalidSweep)
        /// One or more cells do not validate as scenarios.
        public static let invalidCell = Code(.invalidCell)
        /// The sweep folder or a cell's bookkeeping file cannot be written or read.
        public static let output = Code(.output)
        /// A cell's `fedarena run` process cannot start.
        public static let launch = Code(.launch)
        /// The sweep was stopped by a signal.
        public static let interrupted = Code(.interrupted)

        public var description: String {
            switch wrapped {
            case .unreadable: "unreadable sweep"
            case .invalidSweep: "invalid sweep"
            case .invalidCell: "invalid cell"
            case .output: "output error"
            case .launch: "launch error"
            case .interrupted: "interrupted"
            }
        }
    }

    /// The kind of failure.
    public var code: Code
    /// What happened, naming the sweep file, the axis and the cell involved.
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
