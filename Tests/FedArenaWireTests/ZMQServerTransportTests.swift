import CZeroMQ
import FedArenaCore
import FedArenaWire
import Foundation
import Testing

/// A raw libzmq DEALER in its own context, to send what a well-behaved client never would.
private final class RawDealer {
    let context: UnsafeMutableRawPointer
    let socket: UnsafeMutableRawPointer

    init(endpoint: String) {
        context = zmq_ctx_new()!
        socket = zmq_socket(context, ZMQ_DEALER)!
        var linger: Int32 = 0
        zmq_setsockopt(socket, ZMQ_LINGER, &linger, MemoryLayout<Int32>.size)
        precondition(zmq_connect(socket, endpoint) == 0)
    }

    /// Sends one message made of `frames` (queued even before the connection is up).
    @discardableResult
    func send(_ frames: [[UInt8]]) -> Bool {
        for (index, frame) in frames.enumerated() {
            let flags = index < frames.count - 1 ? ZMQ_SNDMORE : 0
            let rc = frame.withUnsafeBytes { zmq_send(socket, $0.baseAddress, $0.count, flags) }
            if rc < 0 { return false }
        }
        return true
    }

    deinit {
        zmq_close(socket)
        zmq_ctx_term(context)
    }
}

private func hello(_ index: Int) -> [UInt8] {
    WireCodec.encode(.hello(.init(processIndex: index, clients: [ClientID(index * 10)], label: "p\(index)")))
}

struct ZMQServerTransportTests {
    @Test func tcpRoundTripWithEphemeralPort() async throws {
        let context = ZMQContext()
        let server = try ZMQServerTransport(context: context, endpoint: "tcp://127.0.0.1:0")
        defer { server.close() }
        #expect(server.boundEndpoint.hasPrefix("tcp://127.0.0.1:"))
        let port = Int(server.boundEndpoint.split(separator: ":").last ?? "") ?? 0
        #expect(port > 0)

        let client = try ZMQClientTransport(context: context, endpoint: server.boundEndpoint)
        defer { client.close() }
        try client.send(hello(3))
        let inbound = try #require(await next(server.inbound).value)
        #expect(try WireCodec.decode(inbound.payload) == .hello(.init(processIndex: 3, clients: [ClientID(30)], label: "p3")))

        let welcome = WireMessage.welcome(.init(runID: "run-1", scenarioJSON: Array("{}".utf8), parameterCount: 7))
        try server.send(WireCodec.encode(welcome), to: inbound.peer)
        let reply = try #require(await next(client.inbound).value)
        #expect(try WireCodec.decode(reply) == welcome)
        #expect(server.statistics.delivered == 1)
        #expect(server.statistics.sent == 1)
    }

    @Test func inprocRoundTrip() async throws {
        let context = ZMQContext()
        let endpoint = "inproc://wire-test-\(UUID().uuidString)"
        let server = try ZMQServerTransport(context: context, endpoint: endpoint)
        defer { server.close() }
        #expect(server.boundEndpoint == endpoint)
        let client = try ZMQClientTransport(context: context, endpoint: endpoint)
        defer { client.close() }
        try client.send([1, 2, 3])
        let inbound = try #require(await next(server.inbound).value)
        #expect(inbound.payload == [1, 2, 3])
        try server.send([4, 5], to: inbound.peer)
        #expect(await next(client.inbound).value == [4, 5])
    }

    @Test func largeMessagesCrossTCPIntact() async throws {
        let context = ZMQContext()
        let server = try ZMQServerTransport(context: context, endpoint: "tcp://127.0.0.1:*")
        defer { server.close() }
        let client = try ZMQClientTransport(context: context, endpoint: server.boundEndpoint)
        defer { client.close() }
        let delta = ParameterVector((0..<79_510).map { Float($0 % 1_000) * 0.5 })
        let update = WireMessage.update(.init(round: 1, client: ClientID(4), sampleCount: 60, trainLoss: 0.3, delta: delta))
        try client.send(WireCodec.encode(update))
        let inbound = try #require(await next(server.inbound).value)
        #expect(inbound.payload.count > 318_000)
        #expect(try WireCodec.decode(inbound.payload, limits: DecodeLimits(expectedParameterCount: 79_510)) == update)
        try server.send(inbound.payload, to: inbound.peer)
        #expect(await next(client.inbound).value == inbound.payload)
    }

    @Test func severalClientsGetRepliesAddressedByPeer() async throws {
        let context = ZMQContext()
        let server = try ZMQServerTransport(context: context, endpoint: "tcp://127.0.0.1:0")
        defer { server.close() }
        let clients = try (0..<6).map { _ in try ZMQClientTransport(context: context, endpoint: server.boundEndpoint) }
        defer { clients.forEach { $0.close() } }
        for (index, client) in clients.enumerated() { try client.send(hello(index)) }

        let inbound = await collect(clients.count, from: server.inbound)
        #expect(inbound.count == clients.count)
        #expect(Set(inbound.map(\.peer)).count == clients.count)
        for message in inbound {
            guard case .hello(let hello) = try WireCodec.decode(message.payload) else {
                Issue.record("expected HELLO")
                continue
            }
            try server.send(WireCodec.encode(.shutdown(.init(reason: "bye \(hello.processIndex)"))), to: message.peer)
        }
        for (index, client) in clients.enumerated() {
            let reply = try #require(await next(client.inbound).value)
            #expect(try WireCodec.decode(reply) == .shutdown(.init(reason: "bye \(index)")))
        }
    }

    @Test func immediateRepliesNeverRaceThePeerBookkeeping() async throws {
        // Regression: a peer must be known before its message is yielded, or an echo that
        // answers at once can hit `.unknownPeer`.
        let context = ZMQContext()
        let server = try ZMQServerTransport(context: context, endpoint: "tcp://127.0.0.1:0")
        defer { server.close() }
        let echo = Task {
            var failures = 0
            for await message in server.inbound {
                do { try server.send(message.payload, to: message.peer) } catch { failures += 1 }
            }
            return failures
        }
        // The race is on each peer's first message, so use many fresh clients.
        var answered = 0
        for _ in 0..<30 {
            let client = try ZMQClientTransport(context: context, endpoint: server.boundEndpoint)
            defer { client.close() }
            for index in 0..<10 {
                try client.send(Frame.le(UInt32(index)))
                guard await next(client.inbound, timeout: .seconds(15)).value == Frame.le(UInt32(index)) else { break }
                answered += 1
            }
        }
        server.close()
        #expect(answered == 300)
        #expect(await echo.value == 0)
    }

    @Test func garbageAndOddFramesDoNotStopTheServer() async throws {
        let context = ZMQContext()
        let server = try ZMQServerTransport(
            context: context, endpoint: "tcp://127.0.0.1:0", options: ZMQTransportOptions(maxMessageBytes: 4_096))
        defer { server.close() }

        let raw = RawDealer(endpoint: server.boundEndpoint)
        #expect(raw.send([[0xDE, 0xAD], [0xBE, 0xEF], [0x00]]))  // extra frames: dropped
        #expect(raw.send([[]]))  // empty payload: delivered
        #expect(raw.send([[0xFF, 0x00, 0x13, 0x37]]))  // garbage: delivered, codec rejects
        let empty = try #require(await next(server.inbound).value)
        #expect(empty.payload.isEmpty)
        #expect(decodeError(empty.payload)?.code == .truncated)
        let garbage = try #require(await next(server.inbound).value)
        #expect(garbage.payload == [0xFF, 0x00, 0x13, 0x37])
        #expect(decodeError(garbage.payload)?.code == .badMagic)
        #expect(server.statistics.droppedInbound == 1)
        // A frame over ZMQ_MAXMSGSIZE: libzmq drops the connection, nothing is delivered.
        let hostile = RawDealer(endpoint: server.boundEndpoint)
        hostile.send([[UInt8](repeating: 7, count: 100_000)])

        // The server still answers a proper client.
        let client = try ZMQClientTransport(context: context, endpoint: server.boundEndpoint)
        defer { client.close() }
        try client.send(hello(9))
        let proper = try #require(await next(server.inbound).value)
        #expect(try WireCodec.decode(proper.payload).kind == .hello)
        try server.send(WireCodec.encode(.error(.init(code: 1, message: "ok"))), to: proper.peer)
        #expect(try WireCodec.decode(try #require(await next(client.inbound).value)) == .error(.init(code: 1, message: "ok")))
        // The raw peer can be answered too, then the oversized frame never shows up.
        try server.send([42], to: garbage.peer)
        #expect(server.statistics.delivered == 3)
    }

    @Test func sendToUnknownPeerThrows() throws {
        let context = ZMQContext()
        let server = try ZMQServerTransport(context: context, endpoint: "tcp://127.0.0.1:0")
        defer { server.close() }
        #expect(transportError { try server.send([1], to: PeerID([0, 1, 2, 3, 4])) }?.code == .unknownPeer)
    }

    @Test func sendToGonePeerEventuallyThrowsUnknownPeer() async throws {
        let context = ZMQContext()
        let server = try ZMQServerTransport(context: context, endpoint: "tcp://127.0.0.1:0")
        defer { server.close() }
        let client = try ZMQClientTransport(context: context, endpoint: server.boundEndpoint)
        try client.send([1])
        let peer = try #require(await next(server.inbound).value).peer
        client.close()
        var code: TransportError.Code?
        for _ in 0..<200 where code == nil {
            do { try server.send([2], to: peer) } catch { code = error.code }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(code == .unknownPeer)
        #expect(server.statistics.droppedOutbound >= 1)
    }

    @Test func closeIsIdempotentFinishesInboundAndRejectsSends() async throws {
        let context = ZMQContext()
        let server = try ZMQServerTransport(context: context, endpoint: "tcp://127.0.0.1:0")
        server.close()
        server.close()
        #expect(await next(server.inbound, timeout: .seconds(15)).isFinished)
        #expect(transportError { try server.send([1], to: PeerID([0, 1])) }?.code == .closed)
    }

    @Test func bindFailuresNameTheEndpoint() throws {
        let context = ZMQContext()
        let server = try ZMQServerTransport(context: context, endpoint: "tcp://127.0.0.1:0")
        defer { server.close() }
        for endpoint in [server.boundEndpoint, "tcp://127.0.0.1:notaport", "nonsense://here"] {
            let error = transportError { _ = try ZMQServerTransport(context: context, endpoint: endpoint) }
            #expect(error?.code == .bindFailed)
            #expect(error?.message.contains(endpoint) == true, "\(String(describing: error))")
        }
        let inUse = #expect(throws: TransportError.self) {
            _ = try ZMQServerTransport(context: context, endpoint: server.boundEndpoint)
        }
        #expect(inUse?.message.contains("Address already in use") == true)
    }

    @Test func dropWithoutCloseReleasesEverything() async throws {
        // deinit closes: a context and transports dropped without close() must not hang.
        for _ in 0..<5 {
            let context = ZMQContext()
            let server = try ZMQServerTransport(context: context, endpoint: "tcp://127.0.0.1:0")
            let client = try ZMQClientTransport(context: context, endpoint: server.boundEndpoint)
            try client.send([1])
            #expect(await next(server.inbound).value?.payload == [1])
        }
    }
}
