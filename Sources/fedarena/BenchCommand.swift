import ArgumentParser
import FedArenaCore
import FedArenaData
import FedArenaDefenses
import FedArenaModels
import FedArenaNumerics
import FedArenaReports
import FedArenaWire
import Foundation
import Synchronization

/// `fedarena bench`: the measured speed figures quoted in the README (medians, one process).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure local training, evaluation, the wire codec and the aggregation rules (run a release build).",
        discussion: """
            Run with OPENBLAS_NUM_THREADS=1 to compare with the single-threaded numpy baselines in
            ../shared/peers (agg_bench.py, run_numpy_ref.py), on an otherwise idle machine.
            Whole-run figures (seconds per round) come from `fedarena run`'s summary.json.
            """)

    @Option(help: "What to measure: all, training (MLP and CNN, with evaluation), cnn (the CNN epoch only), wire, transport (plaintext vs CURVE), aggregators.")
    var only: String = "all"

    @Option(help: "Timed repetitions per item (the median is reported).")
    var repetitions: Int = 20

    @Option(help: "Updates per round for the aggregation benchmark.")
    var n: Int = 100

    @Option(help: "Values per update for the aggregation benchmark (79,510 = MLP 784-100-10).")
    var d: Int = 79_510

    @Option(help: "Assumed Byzantine updates f for the robust rules.")
    var f: Int = 20

    @Option(help: "Comma-separated rule names to time in the aggregation benchmark (default: every rule and pre-stage), e.g. krum,multi-krum.")
    var rules: String?

    func validate() throws {
        guard ["all", "training", "cnn", "wire", "transport", "aggregators"].contains(only) else {
            throw ValidationError("--only must be all, training, cnn, wire, transport or aggregators, got \"\(only)\"")
        }
        guard repetitions >= 1, n >= 1, d >= 1, f >= 0 else { throw ValidationError("--repetitions, --n and --d must be positive and --f non-negative") }
        if let rules {
            let known = Set(try AggregationBenchmark.standardRules(n: n, f: f).map(Self.ruleLabel))
            let unknown = Self.ruleNames(rules).filter { !known.contains($0) }
            guard unknown.isEmpty, !Self.ruleNames(rules).isEmpty else {
                throw ValidationError("--rules: unknown \(unknown.map { "\"\($0)\"" }.joined(separator: ", ")); the benchmark's rules are \(known.sorted().joined(separator: ", "))")
            }
        }
    }

    /// The names of a `--rules` list.
    static func ruleNames(_ list: String) -> [String] {
        list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// A benchmark rule's name as the table prints it (pre-stages first: `bucketing+median`).
    static func ruleLabel(_ spec: ComponentSpec) throws -> String {
        try AggregatorRegistry.standard.make(spec).name
    }

    func run() throws {
        print("# fedarena bench (OPENBLAS_NUM_THREADS=\(ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] ?? "unset"))")
        if only == "all" || only == "training" { try benchTraining() }
        if only == "all" || only == "training" || only == "cnn" { try benchCNN(evaluation: only != "cnn") }
        if only == "all" || only == "wire" { try benchWire() }
        if only == "all" || only == "transport" { try benchTransport() }
        if only == "all" || only == "aggregators" { try benchAggregators() }
    }

    private func benchTraining() throws {
        let data = try FashionMNIST.load()
        let model = try ModelSpec.mlp(hidden: [100]).makeModel()
        var generator = SeededGenerator(seed: 0)
        let global = model.initialParameters(using: &generator)
        let client = data.train.subset(0..<600)
        let trainer = LocalTrainer(model: model, configuration: try LocalTrainer.Configuration(TrainingConfig(rounds: 1)))
        let epoch = try Self.median(repetitions) {
            _ = try trainer.train(from: global, on: client, seed: 0, stream: [1, 2])
        }
        let evaluator = try Evaluator(model: model)
        let evaluation = try Self.median(max(3, repetitions / 4)) {
            _ = try evaluator.evaluate(global, on: data.test)
        }
        print("\n## Local training and evaluation (MLP 784-100-10)\n")
        print("| item | median ms |\n|---|---|")
        print(String(format: "| one client epoch: 600 samples, batch 32 (19 steps) | %.2f |", epoch))
        print(String(format: "| evaluation of 10,000 test samples | %.2f |", evaluation))
    }

    /// The CNN of FLTrust's code, the same work as `../shared/peers/torch_epoch.py --model cnn`:
    /// one local epoch of 600 samples at batch 32, plain SGD (lr 0.05).
    private func benchCNN(evaluation measureEvaluation: Bool) throws {
        let data = try FashionMNIST.load()
        let spec = ModelSpec.cnn(layers: LayerSpec.fltrustCNN)
        let model = try spec.makeModel(inputShape: [1, 28, 28], classes: 10)
        guard let network = model as? ConvolutionalNetwork else { throw CommandFailure("\(spec) did not build a ConvolutionalNetwork") }
        var generator = SeededGenerator(seed: 0)
        let global = model.initialParameters(using: &generator)
        let client = data.train.subset(0..<600)
        let trainer = LocalTrainer(model: model, configuration: try LocalTrainer.Configuration(TrainingConfig(rounds: 1)))
        let epoch = try Self.timings(repetitions) {
            _ = try trainer.train(from: global, on: client, seed: 0, stream: [1, 2])
        }
        // 18 batches of 32 and one of 24
        let flops = 18 * network.trainingFLOPs(rows: 32) + network.trainingFLOPs(rows: 24)
        print("\n## Local training and evaluation (\(network), \(network.parameterCount) parameters)\n")
        print("| item | median ms | min ms | thread CPU ms (median) | GFLOP/s at the median (matrix products) |\n|---|---|---|---|---|")
        print(
            String(
                format: "| one client epoch: 600 samples, batch 32 (19 steps) | %.2f | %.2f | %.2f | %.1f |", epoch.median,
                epoch.min, epoch.cpu, flops / epoch.median / 1e6))
        if measureEvaluation {
            let evaluator = try Evaluator(model: model)
            let evaluation = try Self.median(max(3, repetitions / 4)) {
                _ = try evaluator.evaluate(global, on: data.test)
            }
            print(String(format: "| evaluation of 10,000 test samples | %.2f | | | |", evaluation))
        }
    }

    private func benchWire() throws {
        var generator = SeededGenerator(seed: 1)
        let delta = ParameterVector((0..<79_510).map { _ in Float(generator.normal()) * 0.01 })
        let message = WireMessage.update(.init(round: 3, client: ClientID(7), sampleCount: 600, trainLoss: 0.4, delta: delta, metrics: [:]))
        let limits = DecodeLimits(expectedParameterCount: 79_510)
        let bytes = WireCodec.encode(message)
        let codec = try Self.median(repetitions * 5) {
            _ = try WireCodec.decode(WireCodec.encode(message), limits: limits)
        }
        let context = ZMQContext()
        let server = try ZMQServerTransport(context: context, endpoint: "tcp://127.0.0.1:0")
        let client = try ZMQClientTransport(context: context, endpoint: server.boundEndpoint)
        defer {
            client.close()
            server.close()
        }
        let roundTrip = try Self.median(repetitions * 5) {
            try client.send(bytes)
            let inbound = Self.blockingFirst(server.inbound)
            guard let inbound else { throw CommandFailure("server stream ended") }
            try server.send(inbound.payload, to: inbound.peer)
            guard Self.blockingFirst(client.inbound) != nil else { throw CommandFailure("client stream ended") }
        }
        print("\n## Wire (UPDATE of 79,510 floats, \(bytes.count) bytes)\n")
        print("| item | median ms |\n|---|---|")
        print(String(format: "| encode + decode (CRC-32, finite and dimension checks) | %.3f |", codec))
        print(String(format: "| tcp loopback round trip (client -> coordinator -> client) | %.3f |", roundTrip))
    }

    private func benchAggregators() throws {
        var specs = AggregationBenchmark.standardRules(n: n, f: f)
        if let rules {
            let wanted = Set(Self.ruleNames(rules))
            specs = try specs.filter { wanted.contains(try Self.ruleLabel($0)) }
        }
        // With every rule, a quarter of --repetitions each (the whole table stays under a minute).
        let each = rules == nil ? max(3, repetitions / 4) : repetitions
        let rows = try AggregationBenchmark.run(rules: specs, n: n, d: d, repetitions: each)
        print("\n## Aggregation rules (n = \(n), d = \(d), f = \(f))\n")
        print("| rule | spec | median ms | min ms |\n|---|---|---|---|")
        for row in rows {
            print(String(format: "| %@ | `%@` | %.2f | %.2f |", row.name, row.spec, row.medianMilliseconds, row.minMilliseconds))
        }
    }

    /// The median wall time of `body` in milliseconds, after one warm-up call.
    static func median(_ repetitions: Int, _ body: () throws -> Void) throws -> Double {
        try timings(repetitions, body).median
    }

    /// The median and the fastest wall time of `body` in milliseconds, after one warm-up call,
    /// and the median CPU time of the calling thread (which a loaded machine inflates less).
    static func timings(_ repetitions: Int, _ body: () throws -> Void) throws -> (median: Double, min: Double, cpu: Double) {
        try body()
        var times = [Double]()
        var cpu = [Double]()
        for _ in 0..<repetitions {
            let startCPU = threadCPUMilliseconds()
            let start = ContinuousClock.now
            try body()
            let elapsed = start.duration(to: .now)
            cpu.append(threadCPUMilliseconds() - startCPU)
            times.append(Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) * 1e-15)
        }
        return (Selection.median(times) ?? .nan, times.min() ?? .nan, Selection.median(cpu) ?? .nan)
    }

    private static func threadCPUMilliseconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return Double(spec.tv_sec) * 1e3 + Double(spec.tv_nsec) * 1e-6
    }

    /// Waits for the next element of an async stream from synchronous code.
    static func blockingFirst<Element: Sendable>(_ stream: AsyncStream<Element>) -> Element? {
        let box = LockedBox<Element>()
        let semaphore = DispatchSemaphore(value: 0)
        Task {
            var iterator = stream.makeAsyncIterator()
            let first = await iterator.next()
            box.value.withLock { $0 = first }
            semaphore.signal()
        }
        semaphore.wait()
        return box.value.withLock { $0 }
    }
}

/// A value handed from a task to a waiting thread.
private final class LockedBox<Element: Sendable>: Sendable {
    let value = Mutex<Element?>(nil)
}
