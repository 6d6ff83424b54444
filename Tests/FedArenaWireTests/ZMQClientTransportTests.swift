import FedArenaCore
import FedArenaWire
import Foundation
import Testing

struct ZMQClientTransportTests {
    @Test func badEndpointFailsToConnect() {
        let context = ZMQContext()
        for endpoint in ["nonsense://here", "tcp://", "bogus"] {
            let error = #expect(throws: TransportError.self) {
                _ = try ZMQClientTransport(context: context, endpoint: endpoint)
            }
            #expect(error?.code == .connectFailed)
            #expect(error?.message.contains(endpoint) == true)
        }
    }

    @Test func messagesSentBeforeTheServerBindsArrive() async throws {
        let context = ZMQContext()
        let endpoint = "inproc://late-\(UUID().uuidString)"
        let client = try ZMQClientTransport(context: context, endpoint: endpoint)
        defer { client.close() }
        try client.send([9, 9])
        let server = try ZMQServerTransport(context: context, endpoint: endpoint)
        defer { server.close() }
        #expect(await next(server.inbound).value?.payload == [9, 9])
    }

    @Test func closeIsIdempotentFinishesInboundAndRejectsSends() async throws {
        let context = ZMQContext()
        let client = try ZMQClientTransport(context: context, endpoint: "tcp://127.0.0.1:9")
        client.close()
        client.close()
        #expect(await next(client.inbound, timeout: .seconds(15)).isFinished)
        let error = #expect(throws: TransportError.self) { try client.send([1]) }
        #expect(error?.code == .closed)
    }

    @Test func manyMessagesKeepTheirOrder() async throws {
        let context = ZMQContext()
        let server = try ZMQServerTransport(context: context, endpoint: "tcp://127.0.0.1:0")
        defer { server.close() }
        let client = try ZMQClientTransport(context: context, endpoint: server.boundEndpoint)
        defer { client.close() }
        for index in 0..<500 { try client.send(Frame.le(UInt32(index))) }
        let received = await collect(500, from: server.inbound)
        #expect(received.map(\.payload) == (0..<500).map { Frame.le(UInt32($0)) })
        let peer = try #require(received.first?.peer)
        for index in 0..<500 { try server.send(Frame.le(UInt32(index)), to: peer) }
        #expect(await collect(500, from: client.inbound) == (0..<500).map { Frame.le(UInt32($0)) })
    }
}

/// A client that reconnects says HELLO again by itself, so the coordinator can bind the new
/// connection to the process (over ipc, where the server can be rebound at once).
extension ZMQClientTransportTests {
    @Test func aReconnectedClientSendsItsLastHelloAgain() async throws {
        let endpoint = ZMQCurveTests.ipcEndpoint()
        let context = ZMQContext()
        let first = try ZMQServerTransport(context: context, endpoint: endpoint)
        let client = try ZMQClientTransport(context: context, endpoint: endpoint)
        defer { client.close() }
        let hello = WireCodec.encode(.hello(.init(processIndex: 2, clients: [], label: "p2")))
        try client.send(hello)
        try client.send(WireCodec.encode(.error(.init(code: 1, message: "not a HELLO"))))
        #expect(await collect(2, from: first.inbound).count == 2)
        first.close()
        #expect(await eventually { !client.connectionStatus.isConnected })
        let second = try ZMQServerTransport(context: context, endpoint: endpoint)
        defer { second.close() }
        // Only the HELLO comes again, without the client sending anything.
        let again = try #require(await next(second.inbound).value)
        #expect(again.payload == hello)
        #expect(client.statistics.reannouncements == 1)
        #expect(await next(second.inbound, timeout: .milliseconds(300)).value == nil)
    }
}
