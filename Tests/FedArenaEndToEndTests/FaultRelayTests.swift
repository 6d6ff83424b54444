import FedArenaCore
import FedArenaTesting
import FedArenaWire
import Foundation
import Synchronization
import Testing

/// The fault-injecting relay (``FaultRelay``, `fedarena relay`): its schedule in closed form,
/// and real ZeroMQ connections through it on loopback.
@Suite struct FaultRelayTests {
    @Test func theScheduleStallsAtTheEndOfEachPeriodAndCutsAtItsMultiples() throws {
        // Stalls: the last 250 ms of every 1,000 ms; cuts every 600 ms.
        let schedule = try FaultSchedule(delayMilliseconds: 40, stallEveryMilliseconds: 1_000, stallMilliseconds: 250, cutEveryMilliseconds: 600)
        #expect([0, 749, 750, 999, 1_000, 1_750].map(schedule.isStalled(at:)) == [false, false, true, true, false, true])
        #expect([0, 599, 600, 1_799, 1_800].map(schedule.cutGeneration(at:)) == [0, 0, 1, 2, 3])
        // Next changes: 600 (cut), 750 (stall begins), 1,000 (stall ends), 1,200 (cut), 1,750.
        #expect(schedule.nextChange(after: 0) == 600)
        #expect(schedule.nextChange(after: 600) == 750)
        #expect(schedule.nextChange(after: 750) == 1_000)
        #expect(schedule.nextChange(after: 1_000) == 1_200)
        #expect(schedule.nextChange(after: 1_200) == 1_750)
        let quiet = try FaultSchedule(delayMilliseconds: 5)
        #expect(!quiet.isStalled(at: 12_345) && quiet.cutGeneration(at: 12_345) == 0 && quiet.nextChange(after: 7) == nil)
    }

    @Test func impossibleSchedulesAndAddressesAreRefusedWithTheValue() {
        let long = #expect(throws: FaultRelayError.self) { try FaultSchedule(stallEveryMilliseconds: 1_000, stallMilliseconds: 1_000) }
        #expect(long?.code == .invalidSchedule && long?.message.contains("1000 ms") == true)
        #expect(throws: FaultRelayError.self) { try FaultSchedule(delayMilliseconds: -1) }
        #expect(throws: FaultRelayError.self) { try FaultSchedule(cutEveryMilliseconds: 0) }
        let address = #expect(throws: FaultRelayError.self) { try FaultRelay.Address(parsing: "localhost:5555") }
        #expect(address?.code == .invalidAddress && address?.message.contains("localhost") == true)
        #expect(throws: FaultRelayError.self) { try FaultRelay.Address(parsing: "127.0.0.1:70000") }
        #expect((try? FaultRelay.Address(parsing: "tcp://10.0.0.2:6000")) != nil)
    }

    /// Messages the ZeroMQ server received, collected by one task.
    final class Received: Sendable {
        let messages = Mutex<[InboundMessage]>([])
        var snapshot: [InboundMessage] { messages.withLock { $0 } }
    }

    /// A ZeroMQ client behind the relay: its HELLO arrives no sooner than the relay's delay,
    /// and after each cut the client reconnects through the relay and says HELLO again, under a
    /// new routing identity.
    @Test(.timeLimit(.minutes(2)))
    func aCutConnectionComesBackThroughTheRelayAndSaysHelloAgain() async throws {
        let context = ZMQContext()
        let server = try ZMQServerTransport(context: context, endpoint: "tcp://127.0.0.1:*")
        defer { server.close() }
        let serverPort = try #require(server.boundEndpoint.split(separator: ":").last.map(String.init))
        let schedule = try FaultSchedule(delayMilliseconds: 150, cutEveryMilliseconds: 2_000)
        let relay = try FaultRelay(
            listen: try FaultRelay.Address(parsing: "127.0.0.1:0"), to: try FaultRelay.Address(parsing: "127.0.0.1:\(serverPort)"),
            schedule: schedule, report: { _ in })
        // The relay blocks in accept and per-connection threads of its own, never on the test's pool.
        let acceptor = Thread { relay.run() }
        acceptor.start()
        defer { relay.close() }
        let received = Received()
        let inbound = server.inbound
        let collector = Task { for await message in inbound { received.messages.withLock { $0.append(message) } } }
        defer { collector.cancel() }

        let client = try ZMQClientTransport(context: context, endpoint: "tcp://127.0.0.1:\(relay.listening.port)")
        defer { client.close() }
        let hello = WireCodec.encode(.hello(WireMessage.Hello(processIndex: 0, clients: [], label: "behind the relay")))
        let sent = ContinuousClock.now
        try client.send(hello)
        let deadline = ContinuousClock.now + .seconds(90)
        while received.snapshot.isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let firstArrival = sent.duration(to: .now)
        // The HELLO crossed the relay once, after the ZMTP greeting crossed it both ways.
        #expect(firstArrival >= .milliseconds(150), "\(firstArrival)")
        while Set(received.snapshot.map(\.peer)).count < 3, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let messages = received.snapshot
        #expect(messages.allSatisfy { $0.payload == hello })
        // Two cuts at least, each followed by the same HELLO from a new connection.
        #expect(Set(messages.map(\.peer)).count >= 3, "\(messages.count) messages from \(Set(messages.map(\.peer)).count) peers")
        #expect(relay.statistics.cuts >= 2 && relay.statistics.connections >= 3, "\(relay.statistics)")
        #expect(client.statistics.reannouncements >= 2, "\(client.statistics)")
    }
}
