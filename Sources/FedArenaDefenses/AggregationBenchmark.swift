import FedArenaCore
import FedArenaNumerics

/// Times aggregation rules on synthetic rounds, for `fedarena bench aggregators`.
///
/// The round mirrors the numpy anchor `shared/peers/agg_bench.py`: `n` updates of `d` float32
/// values drawn `N(0, 0.01²)` from a seeded generator, the first `f = n/5` of them multiplied by
/// −4 (a Byzantine-looking block; irrelevant for speed), equal sample counts, the mean of the
/// rest as FLTrust's root update. Each rule runs once to warm up, then `repetitions` times.
public enum AggregationBenchmark {
    /// One rule's timing.
    public struct Row: Sendable, Equatable {
        /// The rule's name (with its pre-aggregation chain).
        public var name: String
        /// The spec that built it, as YAML-like text.
        public var spec: String
        /// The number of updates.
        public var n: Int
        /// The dimension.
        public var d: Int
        /// The median time of one aggregation, in milliseconds.
        public var medianMilliseconds: Double
        /// The fastest time, in milliseconds.
        public var minMilliseconds: Double
        /// How many timed runs.
        public var repetitions: Int
    }

    /// The rules and parameters of the numpy anchor (`agg_bench.py`, `f = 20`, `β = 0.2`,
    /// geomed `ν = 0.1`, 3 steps from zero, centered clipping `τ = 100`, `L = 1`), then the
    /// remaining rules with comparable settings.
    public static func standardRules(f: Int = 20) -> [ComponentSpec] {
        func spec(_ kind: String, _ options: [String: ConfigValue] = [:]) -> ComponentSpec {
            ComponentSpec(kind: kind, options: options, keyPath: "bench")
        }
        return [
            spec("fedavg", ["weighted": .bool(false)]),
            spec("krum", ["f": .int(f)]),
            spec("multi-krum", ["f": .int(f)]),
            spec("median"),
            spec("trimmed-mean", ["beta": .double(0.2)]),
            spec("geomed", ["nu": .double(0.1), "iterations": .int(3), "tolerance": .double(0), "start": .string("zero"), "weighted": .bool(false)]),
            spec("centered-clipping", ["tau": .double(100), "iterations": .int(1)]),
            spec("bulyan", ["f": .int(f)]),
            spec("norm-bound", ["max_norm": .double(1)]),
            spec("fltrust"),
            spec("foolsgold"),
            spec("flame"),
            spec("dnc", ["f": .int(f)]),
            spec("krum", ["f": .int(f), "pre": .array([.object(["kind": .string("nnm"), "f": .int(f)])])]),
            spec("median", ["pre": .array([.object(["kind": .string("bucketing"), "s": .int(2)])])]),
        ]
    }

    /// Builds each rule through `registry` and times it.
    /// - Parameters:
    ///   - rules: the specs to time.
    ///   - n: updates per round.
    ///   - d: values per update.
    ///   - repetitions: timed runs per rule (the median is reported).
    ///   - seed: the data and rule generator seed.
    ///   - registry: where kinds are looked up.
    /// - Returns: one row per rule, in order. Rules whose bounds `n` violates are skipped.
    /// - Throws: ``ConfigError`` for a bad spec; ``AggregationError`` surfaces as a
    ///   ``ConfigError`` at the spec's path.
    public static func run(
        rules: [ComponentSpec], n: Int, d: Int, repetitions: Int, seed: UInt64 = 0,
        registry: AggregatorRegistry = .standard
    ) throws(ConfigError) -> [Row] {
        precondition(n >= 1 && d >= 1 && repetitions >= 1, "benchmark needs n, d, repetitions >= 1")
        var dataRNG = SeededGenerator(seed: seed, stream: [0xBE_4C])
        let byzantine = n / 5
        var updates = [ClientUpdate]()
        updates.reserveCapacity(n)
        for i in 0..<n {
            let scale: Float = i < byzantine ? -0.04 : 0.01
            let values = (0..<d).map { _ in Float(dataRNG.normal()) * scale }
            updates.append(ClientUpdate(client: ClientID(i), round: 1, sampleCount: 600, delta: ParameterVector(values)))
        }
        var reference = [Float](repeating: 0, count: d)
        for update in updates[byzantine...] {
            for j in 0..<d { reference[j] += update.delta.values[j] / Float(n - byzantine) }
        }
        let context = RoundContext(
            round: 1, globalModel: ParameterVector(zeros: d), referenceUpdate: ParameterVector(reference), expectedUpdates: n)
        var rows = [Row]()
        for spec in rules {
            let rule = try registry.make(spec)
            do throws(AggregationError) { try rule.validate(inputCount: n) } catch { continue }
            var rng = SeededGenerator(seed: seed, stream: [1])
            var times = [Double]()
            let clock = ContinuousClock()
            for repetition in 0...repetitions {
                let started = clock.now
                do throws(AggregationError) {
                    _ = try rule.aggregate(updates, context: context, using: &rng)
                } catch {
                    throw AggregatorRegistry.configError(error, keyPath: spec.keyPath)
                }
                let elapsed = clock.now - started
                if repetition > 0 {
                    times.append(Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) * 1e-15)
                }
            }
            times.sort()
            let median = times.count % 2 == 1 ? times[times.count / 2] : 0.5 * (times[times.count / 2 - 1] + times[times.count / 2])
            rows.append(Row(
                name: rule.name, spec: spec.description, n: n, d: d, medianMilliseconds: median,
                minMilliseconds: times[0], repetitions: repetitions))
        }
        return rows
    }
}
