import FedArenaCore
import FedArenaData
import FedArenaWire
import Foundation
import Logging

/// One client process: it hosts one or more logical clients, receives the scenario from the
/// coordinator, trains its clients when asked, and sends their updates.
///
/// The process needs only the coordinator's endpoint: the scenario arrives in WELCOME, the
/// data partition is recomputed locally from the seed (every process computes the same split),
/// and each logical client's training depends only on the seed, the round and the client,
/// never on which process runs it.
public struct ClientRuntime: Sendable {
    private let transport: any ClientTransport
    private let processIndex: Int
    private let explicitClients: [ClientID]
    private let dataDirectory: String?
    private let logger: Logger

    /// Creates a client process runtime.
    /// - Parameters:
    ///   - transport: a transport connected to the coordinator.
    ///   - processIndex: this process's index in `0..<clients.processes`.
    ///   - clients: the logical clients to host, or empty for the round-robin share of
    ///     `processIndex`.
    ///   - dataDirectory: a dataset folder overriding the scenario's, for hosts whose data
    ///     lives elsewhere.
    ///   - logger: where progress and problems go.
    public init(transport: any ClientTransport, processIndex: Int, clients: [ClientID] = [], dataDirectory: String? = nil, logger: Logger) {
        self.transport = transport
        self.processIndex = processIndex
        self.explicitClients = clients
        self.dataDirectory = dataDirectory
        self.logger = logger
    }

    /// Says HELLO, waits for WELCOME, then serves TRAIN requests until SHUTDOWN.
    /// - Throws: ``RuntimeError`` when the coordinator is silent for too long, refuses this
    ///   process, or the dataset is missing (the coordinator is told before exiting).
    public func run() async throws(RuntimeError) {
        let (events, continuation) = AsyncStream<Inbound>.makeStream()
        let inbound = transport.inbound
        let forwarder = Task {
            for await bytes in inbound { continuation.yield(.bytes(bytes)) }
            continuation.yield(.closed)
        }
        defer {
            forwarder.cancel()
            continuation.finish()
        }
        var iterator = events.makeAsyncIterator()
        let label = "\(ProcessInfo.processInfo.hostName) pid \(getpid())"
        try send(.hello(WireMessage.Hello(processIndex: processIndex, clients: explicitClients, label: label)))

        // WELCOME carries the scenario.
        var silence = 120.0
        guard case .welcome(let welcome) = try await next(&iterator, timeout: silence, continuation: continuation, limits: DecodeLimits()) else {
            throw RuntimeError(.protocolViolation, "the coordinator's first message was not WELCOME")
        }
        let config: ScenarioConfig
        do {
            config = try JSONDecoder().decode(ScenarioConfig.self, from: Data(welcome.scenarioJSON))
        } catch {
            throw RuntimeError(.protocolViolation, "cannot decode the scenario in WELCOME: \(error)")
        }
        silence = max(120, 10 * config.transport.roundTimeoutSeconds)
        let plan = RoundPlan(config: config)
        let hosted = explicitClients.isEmpty ? plan.clients(ofProcess: processIndex) : explicitClients
        logger.info("process \(processIndex): run \(welcome.runID), hosting \(hosted.count) clients")

        let engine: ModelEngine
        let shards: [ClientID: LabeledSamples]
        do {
            engine = try ModelEngine(config: config)
            let federation = try FederationData.load(config: config, directoryOverride: dataDirectory)
            shards = federation.clientShards(for: hosted)
        } catch {
            try? send(.error(WireMessage.ErrorReport(code: 10, message: "process \(processIndex): \(error)")))
            throw error
        }
        guard engine.parameterCount == welcome.parameterCount else {
            let message = "model has \(engine.parameterCount) parameters, the coordinator expects \(welcome.parameterCount)"
            try? send(.error(WireMessage.ErrorReport(code: 11, message: message)))
            throw RuntimeError(.protocolViolation, message)
        }
        let limits = DecodeLimits(expectedParameterCount: engine.parameterCount)

        while true {
            switch try await next(&iterator, timeout: silence, continuation: continuation, limits: limits) {
            case .train(let train):
                for client in train.clients {
                    guard let shard = shards[client] else {
                        logger.warning("asked to train \(client), which this process does not host")
                        continue
                    }
                    let result = engine.train(global: train.model, on: shard, client: client, round: train.round, plan: plan)
                    try send(.update(WireMessage.Update(
                        round: train.round, client: client, sampleCount: shard.count, trainLoss: result.loss,
                        delta: result.delta, metrics: [:])))
                }
            case .shutdown(let shutdown):
                logger.info("process \(processIndex): shutdown (\(shutdown.reason))")
                return
            case .error(let report):
                throw RuntimeError(.protocolViolation, "the coordinator refused process \(processIndex): \(report.message)")
            case .welcome:
                logger.notice("process \(processIndex): repeated WELCOME ignored")
            case let other:
                logger.warning("process \(processIndex): unexpected \(other.kindName) ignored")
            }
        }
    }

    private func send(_ message: WireMessage) throws(RuntimeError) {
        do {
            try transport.send(WireCodec.encode(message))
        } catch {
            throw RuntimeError(.transport, "cannot send to the coordinator: \(error)", cause: error)
        }
    }

    private enum Inbound: Sendable {
        case bytes([UInt8])
        case silence(UInt64)
        case closed
    }

    private func next(
        _ iterator: inout AsyncStream<Inbound>.Iterator, timeout: Double,
        continuation: AsyncStream<Inbound>.Continuation, limits: DecodeLimits
    ) async throws(RuntimeError) -> WireMessage {
        while true {
            let token = UInt64.random(in: 1...UInt64.max)
            let timer = Task {
                try? await Task.sleep(for: .seconds(timeout))
                if !Task.isCancelled { continuation.yield(.silence(token)) }
            }
            let event = await iterator.next()
            timer.cancel()
            let bytes: [UInt8]
            switch event {
            case .bytes(let received)?: bytes = received
            case .silence(let fired)? where fired == token:
                throw RuntimeError(.coordinatorLost, "no message from the coordinator for \(Int(timeout)) s")
            case .silence?: continue
            case .closed?, nil: throw RuntimeError(.coordinatorLost, "the connection to the coordinator closed")
            }
            do {
                return try WireCodec.decode(bytes, limits: limits)
            } catch {
                logger.warning("process \(processIndex): undecodable message from the coordinator ignored: \(error)")
            }
        }
    }
}
