import FedArenaCore
import FedArenaNumerics

/// Times aggregation rules on synthetic rounds, for `fedarena bench aggregators`.
///
/// The round mirrors the numpy anchor `shared/peers/agg_bench.py`: `n` updates of `d` float32
/// values drawn `N(0, 0.01²)` from a seeded generator, the first `f = n/5` of them multiplied by
/// −4 (a Byzantine-looking block; irrelevant for speed), equal sample counts, the mean of the
/// rest as FLTrust's root update. The round is one ``UpdateMatrix`` built before timing (as
/// numpy's `X` is), so the times are the rules' own. Each rule runs once to warm up, then
/// `repetitions` times.
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

    /// Every rule of `registry` with its example options for the round (``AggregatorTraits/example``:
    /// the numpy anchor's settings where it has the rule, `β = f/n`), then every pre-aggregation
    /// stage in front of its host rule.
    public static func standardRules(n: Int = 100, f: Int = 20, registry: AggregatorRegistry = .standard) -> [ComponentSpec] {
        registry.examples(for: AggregatorTraits.ExampleRound(n: n, f: f), keyPath: "bench")
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
        var values = [Float](repeating: 0, count: n * d)
        for i in 0..<n {
            let scale: Float = i < byzantine ? -0.04 : 0.01
            for j in 0..<d { values[i * d + j] = Float(dataRNG.normal()) * scale }
        }
        var reference = [Float](repeating: 0, count: d)
        for i in byzantine..<n {
            for j in 0..<d { reference[j] += values[i * d + j] / Float(n - byzantine) }
        }
        let updates: UpdateMatrix
        do throws(AggregationError) {
            updates = try UpdateMatrix(
                values: values, dimension: d, clients: (0..<n).map(ClientID.init), sampleCounts: [Int](repeating: 600, count: n), round: 1)
        } catch {
            throw AggregatorRegistry.configError(error, keyPath: "bench")
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
            rows.append(Row(
                name: rule.name, spec: spec.description, n: n, d: d, medianMilliseconds: Selection.median(times) ?? .nan,
                minMilliseconds: times.min() ?? .nan, repetitions: repetitions))
        }
        return rows
    }
}
