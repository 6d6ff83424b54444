import FedArenaCore
import FedArenaNumerics
import Testing

/// The checks every ``Aggregator`` must pass (NIO's `ByteToMessageDecoderVerifier` for
/// aggregation rules), recorded as Swift Testing expectations.
///
/// ```swift
/// @Test func conformance() throws {
///     AggregatorConformance(try Krum(f: 2), inputCount: 9, robustTo: 2).verify()
/// }
/// ```
///
/// The inputs are seeded random vectors: `honest_i = c + s·z_i` with centre `c = (1, ..., 1)`,
/// spread `s = 0.1` and `z_i` standard normal. Checks:
/// 1. **Permutation invariance**: the same updates in another order give the same result
///    (aggregate within `permutationTolerance`, equal weights), with the same generator seed.
/// 2. **Identical inputs**: `n` copies of `x` give `x` (within `identityTolerance`, relative).
/// 3. **Bounded under outliers** (only with `robustTo: f`): `n − f` honest updates and `f`
///    outliers of norm ~`10⁴·‖c‖` give a result within `outlierRadius` (default `‖c‖`) of `c`.
/// 4. **Determinism**: the same updates and seed give bit-identical results twice.
/// 5. **Typed errors, no traps**: an update of another dimension throws `.dimensionMismatch`
///    (when `n ≥ 2`);
///    NaN or infinity in an update throws `.nonFinite`; an empty round throws `.tooFewUpdates`.
/// 6. **Bounds agree**: for every `m` in `0...inputCount`, `validate(inputCount: m)` throws
///    `.tooFewUpdates` exactly when `aggregate` on `m` updates does.
/// 7. **Weight 0 excludes**: the honest updates plus an outlier of trust weight 0 give exactly
///    the result of the honest updates alone (the outlier's weight 0), and weights outside
///    [0, 1] are refused with `.invalidInput`.
///
/// Rounds reach the rule as one ``UpdateMatrix`` in client order, so check 1 also checks the
/// packing: whatever the arrival order, the rule sees the same block.
///
/// The context carries `referenceUpdate = c` (for FLTrust), no previous aggregate and an
/// empty memory, unless `makeContext` says otherwise.
public struct AggregatorConformance: Sendable {
    /// The rule under test.
    public var aggregator: any Aggregator
    /// `n` for the checks (must satisfy the rule's bound).
    public var inputCount: Int
    /// `d` for the checks.
    public var dimension: Int
    /// The number of outliers the rule claims to tolerate at `inputCount`, or `nil` for none.
    public var robustTo: Int?
    /// The relative tolerance of the identical-inputs check (raise it for noisy rules: FLAME).
    public var identityTolerance: Float
    /// The absolute tolerance of the permutation check (0 = bit-identical).
    public var permutationTolerance: Float
    /// How far from the honest centre the result may land with outliers present.
    public var outlierRadius: Double?
    /// Whether `n` identical inputs must give that input. FoolsGold, for one, treats identical
    /// histories as sybils and returns zero; such rules set this to `false` (the check then
    /// only requires finite, non-negative weights).
    public var expectsIdentity: Bool
    /// The seed of the inputs and of the rule's generator.
    public var seed: UInt64
    /// Builds the round context from the updates of a check (default: see the type's notes).
    public var makeContext: @Sendable (_ updates: [ClientUpdate], _ dimension: Int) -> RoundContext

    /// Creates a verifier.
    /// - Parameters:
    ///   - aggregator: the rule.
    ///   - inputCount: `n`, default 9.
    ///   - dimension: `d`, default 6.
    ///   - robustTo: the outliers tolerated at `n`, or `nil` for a rule that makes no such claim.
    ///   - identityTolerance: relative tolerance for identical inputs, default `1e-5`.
    ///   - permutationTolerance: absolute tolerance for reordered inputs, default 0.
    ///   - outlierRadius: allowed distance from the honest centre, default `‖c‖ = √d`.
    ///   - expectsIdentity: whether identical inputs must come back unchanged (default `true`).
    ///   - seed: default 7.
    ///   - makeContext: the round context for a check.
    public init(
        _ aggregator: any Aggregator, inputCount: Int = 9, dimension: Int = 6, robustTo: Int? = nil,
        identityTolerance: Float = 1e-5, permutationTolerance: Float = 0, outlierRadius: Double? = nil,
        expectsIdentity: Bool = true, seed: UInt64 = 7,
        makeContext: @escaping @Sendable (_ updates: [ClientUpdate], _ dimension: Int) -> RoundContext = AggregatorConformance.defaultContext
    ) {
        self.aggregator = aggregator
        self.inputCount = inputCount
        self.dimension = dimension
        self.robustTo = robustTo
        self.identityTolerance = identityTolerance
        self.permutationTolerance = permutationTolerance
        self.outlierRadius = outlierRadius
        self.expectsIdentity = expectsIdentity
        self.seed = seed
        self.makeContext = makeContext
    }

    /// Round 1, zero global model, `referenceUpdate = (1, ..., 1)`, empty memory.
    public static func defaultContext(_ updates: [ClientUpdate], _ dimension: Int) -> RoundContext {
        RoundContext(
            round: 1, globalModel: ParameterVector(zeros: dimension),
            referenceUpdate: ParameterVector([Float](repeating: 1, count: dimension)),
            expectedUpdates: updates.count)
    }

    /// Like ``defaultContext(_:_:)`` but with the update of the lowest client as the reference
    /// (honest in every check, and equal to the input in the identical-inputs check), for
    /// rules such as FLTrust whose output takes the reference's norm.
    public static func lowestClientAsReference(_ updates: [ClientUpdate], _ dimension: Int) -> RoundContext {
        var context = defaultContext(updates, dimension)
        if let lowest = updates.min(by: { $0.client < $1.client }), lowest.delta.count == dimension {
            context.referenceUpdate = lowest.delta
        }
        return context
    }

    /// Runs every check.
    public func verify(sourceLocation: SourceLocation = #_sourceLocation) {
        verifyPermutationInvariance(sourceLocation: sourceLocation)
        verifyIdenticalInputs(sourceLocation: sourceLocation)
        if robustTo != nil { verifyBoundedUnderOutliers(sourceLocation: sourceLocation) }
        verifyDeterminism(sourceLocation: sourceLocation)
        verifyTypedErrors(sourceLocation: sourceLocation)
        verifyBoundsAgree(sourceLocation: sourceLocation)
        verifyZeroWeightExcludes(sourceLocation: sourceLocation)
    }

    // MARK: Inputs

    /// `count` honest updates `c + 0.1·z` with clients `0..<count` and sample counts 10, 11, ...
    public func honestUpdates(count: Int, stream: UInt64 = 1) -> [ClientUpdate] {
        var rng = SeededGenerator(seed: seed, stream: [stream])
        return (0..<count).map { index in
            let values = (0..<dimension).map { _ in Float(1 + 0.1 * rng.normal()) }
            return ClientUpdate(client: ClientID(index), round: 1, sampleCount: 10 + index % 3, delta: ParameterVector(values))
        }
    }

    /// `f` outliers of norm about `10⁴·√d` in seeded random directions, clients after the honest ones.
    public func outlierUpdates(count: Int, after honest: Int) -> [ClientUpdate] {
        var rng = SeededGenerator(seed: seed, stream: [2])
        return (0..<count).map { index in
            var values = (0..<dimension).map { _ in Float(rng.normal()) }
            let norm = Float(Statistics.squaredNorm(values).squareRoot())
            let scale = 1e4 * Float(dimension).squareRoot() / max(norm, 1e-6)
            values = values.map { $0 * scale }
            return ClientUpdate(client: ClientID(honest + index), round: 1, sampleCount: 10, delta: ParameterVector(values))
        }
    }

    private func run(_ updates: [ClientUpdate]) -> Result<AggregationResult, AggregationError> {
        var rng = SeededGenerator(seed: seed, stream: [99])
        do throws(AggregationError) {
            return .success(try aggregator.aggregate(updates, context: makeContext(updates, dimension), using: &rng))
        } catch {
            return .failure(error)
        }
    }

    // MARK: Checks

    /// Reordered updates give the same result.
    public func verifyPermutationInvariance(sourceLocation: SourceLocation = #_sourceLocation) {
        let updates = honestUpdates(count: inputCount)
        var shuffler = SeededGenerator(seed: seed, stream: [3])
        let orders = [updates, Array(updates.reversed()), { var copy = updates; shuffler.shuffle(&copy); return copy }()]
        guard case .success(let reference) = run(orders[0]) else {
            Issue.record("\(aggregator.name): aggregate failed on \(inputCount) honest updates: \(run(orders[0]))", sourceLocation: sourceLocation)
            return
        }
        for order in orders.dropFirst() {
            switch run(order) {
            case .success(let result):
                let gap = maxAbsDifference(result.aggregate.values, reference.aggregate.values)
                #expect(gap <= permutationTolerance, "\(aggregator.name): reordering the updates moved the aggregate by \(gap)", sourceLocation: sourceLocation)
                let weightGap = reference.weights.keys.map { abs((result.weights[$0] ?? 0) - (reference.weights[$0] ?? 0)) }.max() ?? 0
                #expect(Set(result.weights.keys) == Set(reference.weights.keys) && weightGap <= 1e-9,
                        "\(aggregator.name): reordering the updates changed the weights by \(weightGap)", sourceLocation: sourceLocation)
            case .failure(let error):
                Issue.record("\(aggregator.name): aggregate failed on reordered updates: \(error)", sourceLocation: sourceLocation)
            }
        }
    }

    /// `n` copies of one update give that update.
    public func verifyIdenticalInputs(sourceLocation: SourceLocation = #_sourceLocation) {
        let template = honestUpdates(count: 1, stream: 4)[0].delta
        let updates = (0..<inputCount).map { ClientUpdate(client: ClientID($0), round: 1, sampleCount: 10, delta: template) }
        switch run(updates) {
        case .success(let result):
            let scale = max(1, template.values.map { abs($0) }.max() ?? 1)
            let gap = maxAbsDifference(result.aggregate.values, template.values)
            #expect(!expectsIdentity || gap <= identityTolerance * scale, "\(aggregator.name): \(inputCount) identical inputs gave an aggregate \(gap) away from them", sourceLocation: sourceLocation)
            #expect(result.weights.values.allSatisfy { $0.isFinite && $0 >= 0 }, "\(aggregator.name): weights must be finite and non-negative, got \(result.weights)", sourceLocation: sourceLocation)
        case .failure(let error):
            Issue.record("\(aggregator.name): aggregate failed on identical inputs: \(error)", sourceLocation: sourceLocation)
        }
    }

    /// With `robustTo` outliers of huge norm the result stays near the honest centre.
    public func verifyBoundedUnderOutliers(sourceLocation: SourceLocation = #_sourceLocation) {
        guard let f = robustTo else { return }
        let honest = honestUpdates(count: inputCount - f)
        let updates = honest + outlierUpdates(count: f, after: inputCount - f)
        let radius = outlierRadius ?? Double(dimension).squareRoot()
        switch run(updates) {
        case .success(let result):
            let distance = Statistics.squaredNorm(zip(result.aggregate.values, [Float](repeating: 1, count: dimension)).map { $0 - $1 }).squareRoot()
            #expect(distance <= radius, "\(aggregator.name): with \(f) outliers among \(inputCount) the aggregate is \(distance) from the honest centre (allowed \(radius))", sourceLocation: sourceLocation)
        case .failure(let error):
            Issue.record("\(aggregator.name): aggregate failed with \(f) outliers among \(inputCount): \(error)", sourceLocation: sourceLocation)
        }
    }

    /// The same input and seed give bit-identical output.
    public func verifyDeterminism(sourceLocation: SourceLocation = #_sourceLocation) {
        let updates = honestUpdates(count: inputCount)
        let first = run(updates)
        let second = run(updates)
        switch (first, second) {
        case (.success(let a), .success(let b)):
            #expect(a == b, "\(aggregator.name): two runs with the same seed differ", sourceLocation: sourceLocation)
        default:
            Issue.record("\(aggregator.name): aggregate failed: \(first), \(second)", sourceLocation: sourceLocation)
        }
    }

    /// Bad input throws the right typed error.
    public func verifyTypedErrors(sourceLocation: SourceLocation = #_sourceLocation) {
        var updates = honestUpdates(count: inputCount)
        if inputCount >= 2 {
            var longer = updates
            longer[inputCount / 2].delta.values.append(1)
            expectCode(.dimensionMismatch, run(longer), "an update with one value more", sourceLocation)
            var shorter = updates
            shorter[0].delta.values.removeLast()
            expectCode(.dimensionMismatch, run(shorter), "an update with one value less", sourceLocation)
        }
        for (label, bad) in [("NaN", Float.nan), ("+infinity", Float.infinity), ("-infinity", -Float.infinity)] {
            var poisoned = updates
            poisoned[inputCount - 1].delta.values[dimension / 2] = bad
            expectCode(.nonFinite, run(poisoned), "an update holding \(label)", sourceLocation)
        }
        updates.removeAll()
        expectCode(.tooFewUpdates, run(updates), "an empty round", sourceLocation)
    }

    /// `validate(inputCount:)` and `aggregate` agree on which round sizes are too small.
    public func verifyBoundsAgree(sourceLocation: SourceLocation = #_sourceLocation) {
        for count in 0...inputCount {
            let updates = honestUpdates(count: count)
            var rejected: AggregationError?
            do throws(AggregationError) {
                try aggregator.validate(inputCount: count)
            } catch {
                rejected = error
            }
            if let rejected {
                #expect(rejected.code == .tooFewUpdates, "\(aggregator.name): validate(inputCount: \(count)) threw \(rejected.code), expected too few updates", sourceLocation: sourceLocation)
                expectCode(.tooFewUpdates, run(updates), "\(count) updates (validate rejects them)", sourceLocation)
            } else if case .failure(let error) = run(updates) {
                Issue.record("\(aggregator.name): validate accepts \(count) updates but aggregate threw \(error)", sourceLocation: sourceLocation)
            }
        }
    }

    /// A row of trust weight 0 changes nothing but its own weight (0).
    public func verifyZeroWeightExcludes(sourceLocation: SourceLocation = #_sourceLocation) {
        let honest = honestUpdates(count: inputCount)
        var excluded = outlierUpdates(count: 1, after: inputCount)[0]
        excluded.weight = 0
        switch (run(honest), run(honest + [excluded])) {
        case (.success(let reference), .success(let result)):
            let gap = maxAbsDifference(result.aggregate.values, reference.aggregate.values)
            #expect(gap == 0, "\(aggregator.name): an update of weight 0 moved the aggregate by \(gap)", sourceLocation: sourceLocation)
            #expect(result.weights[excluded.client] == 0, "\(aggregator.name): an update of weight 0 got weight \(result.weights[excluded.client] ?? .nan)", sourceLocation: sourceLocation)
            let others = reference.weights.keys.map { abs((result.weights[$0] ?? .nan) - reference.weights[$0]!) }.max() ?? 0
            #expect(others == 0, "\(aggregator.name): an update of weight 0 changed the other weights by \(others)", sourceLocation: sourceLocation)
        case (let a, let b):
            Issue.record("\(aggregator.name): aggregate failed with an update of weight 0: \(a), \(b)", sourceLocation: sourceLocation)
        }
        var invalid = honest
        invalid[0].weight = 1.5
        expectCode(.invalidInput, run(invalid), "a weight of 1.5", sourceLocation)
    }

    private func expectCode(
        _ code: AggregationError.Code, _ result: Result<AggregationResult, AggregationError>, _ what: String,
        _ sourceLocation: SourceLocation
    ) {
        switch result {
        case .success:
            Issue.record("\(aggregator.name): \(what) should throw \(code), but aggregated", sourceLocation: sourceLocation)
        case .failure(let error):
            #expect(error.code == code, "\(aggregator.name): \(what) threw \(error), expected \(code)", sourceLocation: sourceLocation)
            #expect(!error.message.isEmpty, sourceLocation: sourceLocation)
        }
    }

    private func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
        guard a.count == b.count else { return .infinity }
        var gap: Float = 0
        for (x, y) in zip(a, b) { gap = max(gap, abs(x - y)) }
        return gap.isNaN ? .infinity : gap
    }
}
