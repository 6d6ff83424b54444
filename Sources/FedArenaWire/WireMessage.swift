import FedArenaCore

/// One message of the FedArena coordinator-client protocol.
///
/// A round goes: a client process says ``hello(_:)`` for the logical clients it hosts, the
/// coordinator answers ``welcome(_:)`` with the scenario, then sends ``train(_:)`` each round
/// and receives one ``update(_:)`` per trained client; ``shutdown(_:)`` ends the run and
/// ``error(_:)`` reports a refusal in either direction. ``WireCodec`` turns these into bytes.
public enum WireMessage: Sendable, Equatable {
    /// A client process announces the logical clients it hosts.
    case hello(Hello)
    /// The coordinator accepts a client process and hands it the scenario.
    case welcome(Welcome)
    /// The coordinator asks some clients to train one round from the global model.
    case train(Train)
    /// A client's result for one round.
    case update(Update)
    /// The run is over; the receiver should exit.
    case shutdown(Shutdown)
    /// A refusal or failure report.
    case error(ErrorReport)
    /// The coordinator asks a client to open some of the steps it committed to (`training-audit`).
    case challenge(Challenge)
    /// A client's answer to a CHALLENGE: the opened steps.
    case opening(Opening)

    /// The message type byte of the wire header.
    public enum Kind: UInt8, Sendable, CaseIterable, CustomStringConvertible {
        /// ``WireMessage/hello(_:)``.
        case hello = 1
        /// ``WireMessage/welcome(_:)``.
        case welcome = 2
        /// ``WireMessage/train(_:)``.
        case train = 3
        /// ``WireMessage/update(_:)``.
        case update = 4
        /// ``WireMessage/shutdown(_:)``.
        case shutdown = 5
        /// ``WireMessage/error(_:)``.
        case error = 6
        /// ``WireMessage/challenge(_:)``.
        case challenge = 7
        /// ``WireMessage/opening(_:)``.
        case opening = 8

        public var description: String {
            switch self {
            case .hello: "HELLO"
            case .welcome: "WELCOME"
            case .train: "TRAIN"
            case .update: "UPDATE"
            case .shutdown: "SHUTDOWN"
            case .error: "ERROR"
            case .challenge: "CHALLENGE"
            case .opening: "OPENING"
            }
        }
    }

    /// The kind of this message (its header type byte).
    public var kind: Kind {
        switch self {
        case .hello: .hello
        case .welcome: .welcome
        case .train: .train
        case .update: .update
        case .shutdown: .shutdown
        case .error: .error
        case .challenge: .challenge
        case .opening: .opening
        }
    }
}

extension WireMessage {
    /// HELLO: a client process announces the logical clients it hosts.
    public struct Hello: Sendable, Equatable {
        /// The index of the client OS process, `0..<processes` (non-negative).
        public var processIndex: Int
        /// The logical clients this process hosts (non-negative identifiers).
        public var clients: [ClientID]
        /// A free-form label for logs (host name, pod name).
        public var label: String

        /// Creates a HELLO.
        /// - Parameters:
        ///   - processIndex: The client process index.
        ///   - clients: The logical clients it hosts.
        ///   - label: A label for logs.
        public init(processIndex: Int, clients: [ClientID], label: String = "") {
            self.processIndex = processIndex
            self.clients = clients
            self.label = label
        }
    }

    /// WELCOME: the coordinator accepts a client process and hands it the scenario.
    public struct Welcome: Sendable, Equatable {
        /// The run's identifier (names its output folder and logs).
        public var runID: String
        /// The resolved scenario as JSON bytes (decoded by the runtime, not by the codec).
        public var scenarioJSON: [UInt8]
        /// The model's parameter count `d` every TRAIN and UPDATE vector will have (non-negative).
        public var parameterCount: Int

        /// Creates a WELCOME.
        /// - Parameters:
        ///   - runID: The run's identifier.
        ///   - scenarioJSON: The scenario as JSON bytes.
        ///   - parameterCount: The model dimension.
        public init(runID: String, scenarioJSON: [UInt8], parameterCount: Int) {
            self.runID = runID
            self.scenarioJSON = scenarioJSON
            self.parameterCount = parameterCount
        }
    }

    /// TRAIN: the coordinator asks some clients to train one round from the global model.
    public struct Train: Sendable, Equatable {
        /// The round number (non-negative).
        public var round: Int
        /// The seed from which clients derive this round's random streams.
        public var roundSeed: UInt64
        /// The round's nonce (``RoundNonces/nonce(round:)``): every UPDATE answering this TRAIN
        /// must echo it, so the coordinator can tell a fresh answer from a replayed or stale one.
        /// Unlike ``roundSeed`` it is derived from a per-run secret, so it cannot be predicted
        /// from the scenario.
        public var nonce: UInt64
        /// The logical clients that should train (non-negative identifiers).
        public var clients: [ClientID]
        /// The global model `w_t` (finite float32 values).
        public var model: ParameterVector

        /// Creates a TRAIN.
        /// - Parameters:
        ///   - round: The round number.
        ///   - roundSeed: The round's seed.
        ///   - nonce: The round's nonce, echoed by every UPDATE (0 only where no coordinator checks it).
        ///   - clients: The clients that should train.
        ///   - model: The global model.
        public init(round: Int, roundSeed: UInt64, nonce: UInt64 = 0, clients: [ClientID], model: ParameterVector) {
            self.round = round
            self.roundSeed = roundSeed
            self.nonce = nonce
            self.clients = clients
            self.model = model
        }
    }

    /// UPDATE: one logical client's result for one round.
    public struct Update: Sendable, Equatable {
        /// The round the update answers (non-negative).
        public var round: Int
        /// The nonce of the TRAIN this update answers, echoed unchanged.
        public var nonce: UInt64
        /// The logical client that trained (non-negative identifier).
        public var client: ClientID
        /// How many local samples it trained on (non-negative).
        public var sampleCount: Int
        /// Its mean training loss (finite; sent as a float64).
        public var trainLoss: Double
        /// The model delta `w_local - w_global` (finite float32 values). Assigning it drops
        /// ``compressedDelta``, which therefore always encodes the current delta.
        public var delta: ParameterVector {
            didSet { compressedDelta = nil }
        }
        /// Extra named measurements (finite; sent as float64, keys sorted by UTF-8 bytes).
        public var metrics: [String: Double]
        /// The client's sketch of the data it trained on, when the scenario's detectors ask
        /// for one (per-class random-Fourier-feature means and the label histogram).
        public var sketch: DataSketch?
        /// Raw training samples the client reveals for the opt-in `audit-c2st` detector
        /// (k per round; a privacy cost the scenario opts into).
        public var auditSamples: LabeledSamples?
        /// The delta as it travels when the client compresses it (`transport.compression`), or
        /// `nil` for float32. When set, the codec writes this instead of ``delta``, and
        /// ``delta`` holds its decoded values (see ``compress(_:)``); a decoded UPDATE has both.
        public internal(set) var compressedDelta: CompressedVector?
        /// The client's commitment to its local steps (`training-audit`): a 32-byte Merkle root
        /// and one finite non-negative norm per step.
        public var commitment: TrainingCommitment?

        /// Creates an UPDATE.
        /// - Parameters:
        ///   - round: The round.
        ///   - nonce: The nonce of the TRAIN it answers.
        ///   - client: The client.
        ///   - sampleCount: The local sample count.
        ///   - trainLoss: The mean training loss.
        ///   - delta: The model delta.
        ///   - metrics: Extra measurements.
        public init(
            round: Int, nonce: UInt64 = 0, client: ClientID, sampleCount: Int, trainLoss: Double, delta: ParameterVector,
            metrics: [String: Double] = [:], sketch: DataSketch? = nil
        ) {
            self.sketch = sketch
            self.round = round
            self.nonce = nonce
            self.client = client
            self.sampleCount = sampleCount
            self.trainLoss = trainLoss
            self.delta = delta
            self.metrics = metrics
        }

        /// Sends the delta in a compressed encoding: ``compressedDelta`` becomes `compressed`
        /// and ``delta`` its decoded float32 values, exactly what the receiver will see.
        /// - Parameter compressed: The encoded delta (``Float16Codec`` or ``Int8BlockCodec`` output).
        public mutating func compress(_ compressed: CompressedVector) {
            delta = ParameterVector(compressed.decoded())
            compressedDelta = compressed
        }
    }

    /// SHUTDOWN: the run is over.
    public struct Shutdown: Sendable, Equatable {
        /// Why the run ended, for logs.
        public var reason: String

        /// Creates a SHUTDOWN.
        /// - Parameter reason: Why the run ended.
        public init(reason: String) { self.reason = reason }
    }

    /// ERROR: a refusal or failure report, in either direction.
    public struct ErrorReport: Sendable, Equatable {
        /// An application-defined error code.
        public var code: UInt16
        /// What went wrong.
        public var message: String

        /// Creates an ERROR.
        /// - Parameters:
        ///   - code: The application error code.
        ///   - message: What went wrong.
        public init(code: UInt16, message: String) {
            self.code = code
            self.message = message
        }
    }
}

extension WireMessage {
    /// CHALLENGE: the coordinator asks one client to open some of the steps it committed to in
    /// its UPDATE (sent after the UPDATE arrived, so the client could not know them).
    public struct Challenge: Sendable, Equatable {
        /// The round (non-negative).
        public var round: Int
        /// The round's nonce (as in TRAIN).
        public var nonce: UInt64
        /// The client asked (non-negative identifier).
        public var client: ClientID
        /// The 1-based steps to open, strictly ascending (at most ``DecodeLimits/maxOpenedSteps``).
        public var steps: [Int]

        /// Creates a CHALLENGE.
        /// - Parameters:
        ///   - round: The round.
        ///   - nonce: The round's nonce.
        ///   - client: The client.
        ///   - steps: The steps to open, ascending.
        public init(round: Int, nonce: UInt64, client: ClientID, steps: [Int]) {
            self.round = round
            self.nonce = nonce
            self.client = client
            self.steps = steps
        }
    }

    /// OPENING: one client's opened steps, answering a CHALLENGE.
    public struct Opening: Sendable, Equatable {
        /// The round (non-negative).
        public var round: Int
        /// The round's nonce, echoed.
        public var nonce: UInt64
        /// The client (non-negative identifier).
        public var client: ClientID
        /// One opening per challenged step (at most ``DecodeLimits/maxOpenedSteps``).
        public var openings: [StepOpening]

        /// Creates an OPENING.
        /// - Parameters:
        ///   - round: The round.
        ///   - nonce: The round's nonce.
        ///   - client: The client.
        ///   - openings: The opened steps.
        public init(round: Int, nonce: UInt64, client: ClientID, openings: [StepOpening]) {
            self.round = round
            self.nonce = nonce
            self.client = client
            self.openings = openings
        }
    }
}
