import FedArenaCore
import FedArenaNumerics
import FedArenaWire
import Foundation
import Synchronization

extension BenchCommand {
    /// Updates per second from one client to the coordinator over tcp loopback, plaintext and
    /// CURVE: the client queues `count` UPDATEs of the MLP 784-100-10 (79,510 floats), the
    /// server takes them off its socket; the time runs from the first send to the last
    /// delivery. Medians over `repetitions` of wall time and of the process's CPU time (both
    /// ends run in this process), which a loaded machine disturbs much less than wall time.
    func benchTransport(count: Int = 200) throws {
        var generator = SeededGenerator(seed: 2)
        let delta = ParameterVector((0..<79_510).map { _ in Float(generator.normal()) * 0.01 })
        let bytes = WireCodec.encode(.update(.init(round: 1, nonce: 7, client: ClientID(0), sampleCount: 600, trainLoss: 0.4, delta: delta)))
        let serverKeys = try CurveKeyPair.generate()
        let clientKeys = try CurveKeyPair.generate()
        let allowList = try CurveAllowList(clients: [0: clientKeys.publicKey])
        let cases: [(String, ZMQSecurity, ZMQSecurity)] = [
            ("plaintext", .plaintext, .plaintext),
            ("CURVE", .curveServer(keyPair: serverKeys, allowList: allowList), .curveClient(keyPair: clientKeys, serverKey: serverKeys.publicKey)),
        ]
        var rates = [String: Double]()
        print("\n## Transport (tcp loopback, one client, UPDATE of \(bytes.count) bytes, \(count) per batch)\n")
        print("| security | median updates/s (wall) | median MB/s (wall) | updates per CPU second (both ends) | round trip ms |\n|---|---|---|---|---|")
        for (name, serverSecurity, clientSecurity) in cases {
            let context = ZMQContext()
            let server = try ZMQServerTransport(
                context: context, endpoint: "tcp://127.0.0.1:0", options: ZMQTransportOptions(security: serverSecurity))
            let client = try ZMQClientTransport(
                context: context, endpoint: server.boundEndpoint, options: ZMQTransportOptions(security: clientSecurity))
            defer {
                client.close()
                server.close()
            }
            let roundTrip = try Self.median(repetitions) {
                try client.send(bytes)
                guard let inbound = Self.blockingFirst(server.inbound) else { throw CommandFailure("server stream ended") }
                try server.send(inbound.payload, to: inbound.peer)
                guard Self.blockingFirst(client.inbound) != nil else { throw CommandFailure("client stream ended") }
            }
            var cpuSeconds = [Double]()
            let batch = try Self.median(repetitions) {
                let before = Self.processCPUSeconds()
                for _ in 0..<count { try client.send(bytes) }
                guard Self.blockingTake(count, from: server.inbound) == count else { throw CommandFailure("server stream ended") }
                cpuSeconds.append(Self.processCPUSeconds() - before)
            }
            cpuSeconds.sort()
            let perSecond = Double(count) / (batch / 1_000)
            let perCPUSecond = Double(count) / cpuSeconds[cpuSeconds.count / 2]
            rates[name] = perCPUSecond
            print(String(
                format: "| %@ | %.0f | %.0f | %.0f | %.3f |", name, perSecond, perSecond * Double(bytes.count) / 1e6, perCPUSecond, roundTrip))
        }
        if let plain = rates["plaintext"], let curve = rates["CURVE"] {
            print(String(format: "\nPer CPU second (process user + system time, sender and receiver together), CURVE moves %.2fx the updates of plaintext.", curve / plain))
        }
    }

    /// User plus system CPU time of this process so far (all threads), in seconds.
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) * 1e-6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// Waits for `count` elements of an async stream from synchronous code; returns how many came.
    static func blockingTake<Element: Sendable>(_ count: Int, from stream: AsyncStream<Element>) -> Int {
        let semaphore = DispatchSemaphore(value: 0)
        let taken = Task {
            var iterator = stream.makeAsyncIterator()
            var seen = 0
            while seen < count, await iterator.next() != nil { seen += 1 }
            semaphore.signal()
            return seen
        }
        semaphore.wait()
        return Self.blockingValue(taken)
    }

    /// The value of a finished task, from synchronous code.
    private static func blockingValue(_ task: Task<Int, Never>) -> Int {
        let box = CountBox()
        let semaphore = DispatchSemaphore(value: 0)
        Task {
            box.set(await task.value)
            semaphore.signal()
        }
        semaphore.wait()
        return box.get()
    }
}

/// An integer handed from a task to a waiting thread.
private final class CountBox: Sendable {
    private let value = Mutex(0)
    func set(_ newValue: Int) { value.withLock { $0 = newValue } }
    func get() -> Int { value.withLock { $0 } }
}
