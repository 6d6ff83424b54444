import FedArenaCore
import FedArenaWire
import Foundation
import Testing

/// CurveZMQ over real sockets: the allow-list admits only its keys, reports the process index
/// bound to the key with every message, and keeps plaintext peers out.
@Suite struct ZMQCurveTests {
    /// Keys for a server and three clients, of which `stranger` is not in the allow-list.
    struct Keys {
        let server: CurveKeyPair
        let first: CurveKeyPair
        let second: CurveKeyPair
        let stranger: CurveKeyPair
        let allowList: CurveAllowList

        init() throws {
            server = try CurveKeyPair.generate()
            first = try CurveKeyPair.generate()
            second = try CurveKeyPair.generate()
            stranger = try CurveKeyPair.generate()
            allowList = try CurveAllowList(clients: [0: first.publicKey, 1: second.publicKey])
        }

        var serverOptions: ZMQTransportOptions {
            ZMQTransportOptions(security: .curveServer(keyPair: server, allowList: allowList))
        }

        func clientOptions(_ pair: CurveKeyPair, serverKey: CurvePublicKey? = nil) -> ZMQTransportOptions {
            ZMQTransportOptions(security: .curveClient(keyPair: pair, serverKey: serverKey ?? server.publicKey))
        }
    }

    static func ipcEndpoint() -> String { "ipc://\(FileManager.default.temporaryDirectory.path)/fedarena-curve-\(UUID().uuidString).sock" }

    @Test func libzmqHasCurve() {
        #expect(CurveKeyPair.isSupported)
    }

    @Test(arguments: ["tcp://127.0.0.1:*", "ipc"])
    func aKnownKeysProcessIndexArrivesWithEveryMessage(endpoint: String) async throws {
        let keys = try Keys()
        let context = ZMQContext()
        let server = try ZMQServerTransport(
            context: context, endpoint: endpoint == "ipc" ? Self.ipcEndpoint() : endpoint, options: keys.serverOptions)
        defer { server.close() }
        if endpoint.hasPrefix("tcp") {
            // The real port, read back with ZMQ_LAST_ENDPOINT.
            #expect(Int(server.boundEndpoint.split(separator: ":").last ?? "") ?? 0 > 0)
        }
        let client = try ZMQClientTransport(context: context, endpoint: server.boundEndpoint, options: keys.clientOptions(keys.second))
        defer { client.close() }
        try client.send([1, 2, 3])
        try client.send([4])
        let messages = await collect(2, from: server.inbound)
        #expect(messages.map(\.payload) == [[1, 2, 3], [4]])
        #expect(messages.map(\.authenticated) == [.clientProcess(1), .clientProcess(1)])
        #expect(messages.first?.authenticatedProcess == 1)
        // Replies travel encrypted the other way.
        try server.send([9, 9], to: try #require(messages.first).peer)
        #expect(await next(client.inbound).value == [9, 9])
        #expect(server.authentication.admitted == 1)
        #expect(server.authentication.refused == 0)
        #expect(client.connectionStatus.isConnected)
        #expect(client.connectionStatus.silence == .zero)
    }

    @Test func twoClientsAreToldApartByKeyNotByWhatTheyClaim() async throws {
        let keys = try Keys()
        let context = ZMQContext()
        let server = try ZMQServerTransport(context: context, endpoint: "tcp://127.0.0.1:*", options: keys.serverOptions)
        defer { server.close() }
        let first = try ZMQClientTransport(context: context, endpoint: server.boundEndpoint, options: keys.clientOptions(keys.first))
        defer { first.close() }
        let second = try ZMQClientTransport(context: context, endpoint: server.boundEndpoint, options: keys.clientOptions(keys.second))
        defer { second.close() }
        // Both claim process index 1 in their HELLO; only the key decides who they are.
        let claim = WireCodec.encode(.hello(.init(processIndex: 1, clients: [], label: "claims 1")))
        try first.send(claim)
        try second.send(claim)
        let messages = await collect(2, from: server.inbound)
        #expect(Set(messages.compactMap(\.authenticatedProcess)) == [0, 1])
        #expect(Set(messages.map(\.peer)).count == 2)
    }

    @Test func anUnknownKeyIsRefusedAndRecorded() async throws {
        let keys = try Keys()
        let context = ZMQContext()
        let server = try ZMQServerTransport(context: context, endpoint: "tcp://127.0.0.1:*", options: keys.serverOptions)
        defer { server.close() }
        let stranger = try ZMQClientTransport(context: context, endpoint: server.boundEndpoint, options: keys.clientOptions(keys.stranger))
        defer { stranger.close() }
        try stranger.send([6, 6, 6])
        #expect(await eventually { server.authentication.refused >= 1 })
        let refusal = try #require(server.authentication.firstRefusals.first)
        #expect(refusal.publicKey == keys.stranger.publicKey.z85)
        #expect(refusal.address == "127.0.0.1")
        #expect(refusal.reason.contains("allow-list"))
        #expect(await eventually { stranger.statistics.authenticationFailures >= 1 })
        #expect(stranger.connectionStatus.lastFailure?.contains("refused this client's key") == true)
        #expect(!stranger.connectionStatus.isConnected)
        #expect(await eventually { server.statistics.authenticationFailures >= 1 })
        #expect(await next(server.inbound, timeout: .milliseconds(500)).value == nil)
        #expect(server.statistics.delivered == 0)
        #expect(server.authentication.admitted == 0)
    }

    @Test func aPlaintextClientCannotTalkToACurveServer() async throws {
        let keys = try Keys()
        let context = ZMQContext()
        let server = try ZMQServerTransport(context: context, endpoint: "tcp://127.0.0.1:*", options: keys.serverOptions)
        defer { server.close() }
        let plaintext = try ZMQClientTransport(context: context, endpoint: server.boundEndpoint)
        defer { plaintext.close() }
        try plaintext.send(WireCodec.encode(.hello(.init(processIndex: 0, clients: [], label: "no keys"))))
        #expect(await eventually { server.statistics.protocolFailures >= 1 })
        #expect(await eventually { plaintext.statistics.protocolFailures >= 1 })
        #expect(plaintext.connectionStatus.lastFailure?.contains("CURVE") == true)
        #expect(await next(server.inbound, timeout: .milliseconds(500)).value == nil)
        #expect(server.statistics.delivered == 0)
    }

    @Test func aCurveClientRefusesAServerWithAnotherKey() async throws {
        let keys = try Keys()
        let impostor = try CurveKeyPair.generate()
        let context = ZMQContext()
        let server = try ZMQServerTransport(context: context, endpoint: "tcp://127.0.0.1:*", options: keys.serverOptions)
        defer { server.close() }
        // The client expects `impostor` as the server: the handshake cannot complete.
        let client = try ZMQClientTransport(
            context: context, endpoint: server.boundEndpoint, options: keys.clientOptions(keys.first, serverKey: impostor.publicKey))
        defer { client.close() }
        try client.send([1])
        #expect(await eventually { server.statistics.protocolFailures >= 1 })
        #expect(await next(server.inbound, timeout: .milliseconds(500)).value == nil)
        #expect(!client.connectionStatus.isConnected)
    }

    @Test func serversInOneContextKeepTheirOwnAllowLists() async throws {
        let keys = try Keys()
        let otherList = try CurveAllowList(clients: [5: keys.stranger.publicKey])
        let context = ZMQContext()
        let first = try ZMQServerTransport(context: context, endpoint: "tcp://127.0.0.1:*", options: keys.serverOptions)
        defer { first.close() }
        let second = try ZMQServerTransport(
            context: context, endpoint: "tcp://127.0.0.1:*",
            options: ZMQTransportOptions(security: .curveServer(keyPair: keys.server, allowList: otherList)))
        defer { second.close() }
        let toSecond = try ZMQClientTransport(context: context, endpoint: second.boundEndpoint, options: keys.clientOptions(keys.stranger))
        defer { toSecond.close() }
        let toFirst = try ZMQClientTransport(context: context, endpoint: first.boundEndpoint, options: keys.clientOptions(keys.stranger))
        defer { toFirst.close() }
        try toSecond.send([2])
        try toFirst.send([1])
        let message = try #require(await next(second.inbound).value)
        #expect(message.authenticatedProcess == 5)
        #expect(await eventually { first.authentication.refused >= 1 })
        #expect(second.authentication.refused == 0)
    }

    @Test func theAdversaryAdmitsTheCoordinatorAsItselfAndTheCoordinatorDoesNot() async throws {
        let keys = try Keys()
        let coordinatorKeys = try CurveKeyPair.generate()
        let adversaryKeys = try CurveKeyPair.generate()
        let full = try CurveAllowList(
            clients: [0: keys.first.publicKey], coordinator: coordinatorKeys.publicKey, adversary: adversaryKeys.publicKey)
        let context = ZMQContext()
        // The adversary admits client processes and the coordinator (the full list) ...
        let adversary = try ZMQServerTransport(
            context: context, endpoint: "tcp://127.0.0.1:*",
            options: ZMQTransportOptions(security: .curveServer(keyPair: adversaryKeys, allowList: full)))
        defer { adversary.close() }
        let link = try ZMQClientTransport(
            context: context, endpoint: adversary.boundEndpoint,
            options: ZMQTransportOptions(
                security: try ZMQSecurity.adversaryLink(
                    transport: TransportConfig(curve: true).withAdversaryKey(adversaryKeys.publicKey), keyPair: coordinatorKeys)))
        defer { link.close() }
        try link.send([1])
        let message = try #require(await next(adversary.inbound).value)
        #expect(message.authenticated == .coordinator)
        #expect(message.authenticatedProcess == nil)
        // ... the coordinator's own server admits client processes only.
        let coordinator = try ZMQServerTransport(
            context: context, endpoint: "tcp://127.0.0.1:*",
            options: ZMQTransportOptions(security: .curveServer(keyPair: coordinatorKeys, allowList: full.clientsOnly)))
        defer { coordinator.close() }
        let impostor = try ZMQClientTransport(
            context: context, endpoint: coordinator.boundEndpoint, options: keys.clientOptions(coordinatorKeys, serverKey: coordinatorKeys.publicKey))
        defer { impostor.close() }
        try impostor.send([2])
        #expect(await eventually { coordinator.authentication.refused >= 1 })
    }

    @Test func theAdversaryLinkIsPlaintextUnlessTheRunUsesCurve() throws {
        let pair = try CurveKeyPair.generate()
        #expect(try ZMQSecurity.adversaryLink(transport: TransportConfig(), keyPair: pair) == .plaintext)
        #expect(try ZMQSecurity.adversaryLink(transport: TransportConfig(curve: false), keyPair: nil) == .plaintext)
        #expect(throws: CurveKeyError.self) { try ZMQSecurity.adversaryLink(transport: TransportConfig(curve: true), keyPair: pair) }
        let keyed = TransportConfig(curve: true).withAdversaryKey(pair.publicKey)
        #expect(throws: CurveKeyError.self) { try ZMQSecurity.adversaryLink(transport: keyed, keyPair: nil) }
        #expect(try ZMQSecurity.adversaryLink(transport: keyed, keyPair: pair) == .curveClient(keyPair: pair, serverKey: pair.publicKey))
    }

    @Test func curveIsRefusedOverInprocAndPlaintextInprocIsUnauthenticated() async throws {
        let keys = try Keys()
        let context = ZMQContext()
        let endpoint = "inproc://curve-\(UUID().uuidString)"
        let error = transportError { _ = try ZMQServerTransport(context: context, endpoint: endpoint, options: keys.serverOptions) }
        #expect(error?.code == .bindFailed)
        #expect(error?.message.contains("inproc") == true)
        let server = try ZMQServerTransport(context: context, endpoint: endpoint)
        defer { server.close() }
        let clientError = transportError { _ = try ZMQClientTransport(context: context, endpoint: endpoint, options: keys.clientOptions(keys.first)) }
        #expect(clientError?.code == .connectFailed)
        let client = try ZMQClientTransport(context: context, endpoint: endpoint)
        defer { client.close() }
        try client.send([3])
        let message = try #require(await next(server.inbound).value)
        #expect(message.authenticated == nil)
        #expect(message.authenticatedProcess == nil)
    }

    @Test func plaintextTCPMessagesCarryNoIdentity() async throws {
        let context = ZMQContext()
        let server = try ZMQServerTransport(context: context, endpoint: "tcp://127.0.0.1:*")
        defer { server.close() }
        let client = try ZMQClientTransport(context: context, endpoint: server.boundEndpoint)
        defer { client.close() }
        try client.send([1])
        let message = try #require(await next(server.inbound).value)
        #expect(message.authenticated == nil)
    }

    @Test func keysOfTheWrongRoleAreRefused() throws {
        let keys = try Keys()
        let context = ZMQContext()
        let server = transportError {
            _ = try ZMQServerTransport(context: context, endpoint: "tcp://127.0.0.1:*", options: keys.clientOptions(keys.first))
        }
        #expect(server?.code == .bindFailed)
        let client = transportError {
            _ = try ZMQClientTransport(context: context, endpoint: "tcp://127.0.0.1:1", options: keys.serverOptions)
        }
        #expect(client?.code == .connectFailed)
    }

    @Test func theClientSeesTheServerGoAndCountsTheSilence() async throws {
        let context = ZMQContext()
        let server = try ZMQServerTransport(context: context, endpoint: "tcp://127.0.0.1:*")
        let client = try ZMQClientTransport(context: context, endpoint: server.boundEndpoint)
        defer { client.close() }
        #expect(await eventually { client.connectionStatus.isConnected })
        server.close()
        #expect(await eventually { !client.connectionStatus.isConnected })
        try await Task.sleep(for: .milliseconds(300))
        #expect(client.connectionStatus.silence >= .milliseconds(250))
        #expect(client.statistics.disconnects >= 1)
    }

    @Test func theRunsLargestUpdateIsTheLargestFrameAdmitted() async throws {
        let limits = DecodeLimits.coordinator(parameterCount: 50, clients: 2)
        let keys = try Keys()
        let context = ZMQContext()
        var options = keys.serverOptions
        options.maxMessageBytes = limits.maxMessageBytes
        let server = try ZMQServerTransport(context: context, endpoint: "tcp://127.0.0.1:*", options: options)
        defer { server.close() }
        let client = try ZMQClientTransport(context: context, endpoint: server.boundEndpoint, options: keys.clientOptions(keys.first))
        defer { client.close() }
        try client.send(Array(repeating: 1, count: limits.maxMessageBytes))
        #expect(await next(server.inbound).value?.payload.count == limits.maxMessageBytes)
        // One byte more: libzmq drops the connection before allocating the frame.
        try client.send(Array(repeating: 2, count: limits.maxMessageBytes + 1))
        #expect(await eventually { server.statistics.disconnects >= 1 })
        #expect(server.statistics.delivered == 1)
    }
}

extension TransportConfig {
    /// The same section with the adversary's public key set (as the coordinator sends it).
    func withAdversaryKey(_ key: CurvePublicKey) -> TransportConfig {
        var copy = self
        copy.adversaryPublicKey = key.z85
        return copy
    }
}
