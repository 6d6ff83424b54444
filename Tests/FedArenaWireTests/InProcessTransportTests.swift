import FedArenaCore
import FedArenaWire
import Testing

struct InProcessTransportTests {
    @Test func roundTripAddressedByPeer() async throws {
        let hub = InProcessTransport()
        let clients = (0..<4).map { _ in hub.connect() }
        #expect(Set(clients.map(\.peer)).count == 4)
        #expect(clients.allSatisfy { $0.peer.bytes.count == 5 })
        for (index, client) in clients.enumerated() { try client.send([UInt8(index)]) }
        let inbound = await collect(4, from: hub.server.inbound)
        #expect(inbound.map(\.payload) == [[0], [1], [2], [3]])
        #expect(inbound.map(\.peer) == clients.map(\.peer))
        for message in inbound { try hub.server.send(message.payload + [100], to: message.peer) }
        for (index, client) in clients.enumerated() {
            #expect(await next(client.inbound).value == [UInt8(index), 100])
        }
    }

    @Test func carriesEncodedMessages() async throws {
        let hub = InProcessTransport()
        let client = hub.connect()
        let update = WireMessage.update(.init(round: 2, client: ClientID(1), sampleCount: 5, trainLoss: 0.1,
                                              delta: ParameterVector([1, 2]), metrics: ["m": 1]))
        try client.send(WireCodec.encode(update))
        let inbound = try #require(await next(hub.server.inbound).value)
        #expect(try WireCodec.decode(inbound.payload) == update)
    }

    @Test func unknownAndGonePeersThrow() async throws {
        let hub = InProcessTransport()
        let client = hub.connect()
        // Connected but silent: not known yet, as with a ROUTER.
        #expect(transportError { try hub.server.send([1], to: client.peer) }?.code == .unknownPeer)
        try client.send([1])
        _ = await next(hub.server.inbound)
        try hub.server.send([2], to: client.peer)
        client.close()
        #expect(transportError { try hub.server.send([3], to: client.peer) }?.code == .unknownPeer)
        #expect(transportError { try hub.server.send([3], to: PeerID([9])) }?.code == .unknownPeer)
    }

    @Test func closeIsIdempotentAndFinishesStreams() async throws {
        let hub = InProcessTransport()
        let client = hub.connect()
        client.close()
        client.close()
        #expect(await next(client.inbound, timeout: .seconds(15)).isFinished)
        #expect(transportError { try client.send([1]) }?.code == .closed)

        let other = hub.connect()
        hub.server.close()
        hub.server.close()
        #expect(await next(hub.server.inbound, timeout: .seconds(15)).isFinished)
        #expect(transportError { try hub.server.send([1], to: other.peer) }?.code == .closed)
        try other.send([1])  // dropped, like a DEALER whose server is gone
    }
}
