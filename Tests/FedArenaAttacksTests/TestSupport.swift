import FedArenaAttacks
import FedArenaCore
import FedArenaNumerics
import Testing

/// Vectors from rows.
func vectors(_ rows: [[Float]]) -> [ParameterVector] { rows.map(ParameterVector.init) }

/// A round-1 context.
func context(malicious: [[Float]], benign: [[Float]] = [], total: Int? = nil, f: Int? = nil) -> AttackContext {
    AttackContext(
        round: 1, maliciousUpdates: vectors(malicious), benignUpdates: vectors(benign),
        totalClients: total ?? (malicious.count + benign.count), assumedByzantine: f)
}

/// Runs `attack` with a fixed generator.
func craft(_ attack: some UpdateAttack, _ context: AttackContext, seed: UInt64 = 1) throws(AttackError) -> [[Float]] {
    var rng = SeededGenerator(seed: seed)
    return try attack.craft(context, using: &rng).map(\.values)
}

/// `count` rows of dimension `d`: `mean + sigma · N(0, 1)` per coordinate, seeded.
func noisyRows(_ count: Int, d: Int, mean: Float, sigma: Float, seed: UInt64) -> [[Float]] {
    var rng = SeededGenerator(seed: seed)
    return (0..<count).map { _ in (0..<d).map { _ in mean + sigma * Float(rng.normal()) } }
}

/// Whether `a` and `b` agree within `tolerance` at every coordinate.
func close(_ a: [Float], _ b: [Float], _ tolerance: Float = 1e-5) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }
}

/// Updates from rows: client `i` sends `rows[i]`.
func clientUpdates(_ rows: [[Float]]) -> [ClientUpdate] {
    rows.enumerated().map { ClientUpdate(client: ClientID($0.offset), round: 1, sampleCount: 10, delta: ParameterVector($0.element)) }
}

/// A round-1 aggregation context of dimension `d`.
func roundContext(_ d: Int) -> RoundContext { RoundContext(round: 1, globalModel: ParameterVector(zeros: d), expectedUpdates: 0) }

/// The squared distance of two rows, in `Double`.
func squaredDistance(_ a: [Float], _ b: [Float]) -> Double {
    zip(a, b).reduce(0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
}

/// Expects `body` to throw an ``AttackError`` with `code`.
func expectAttackError(_ code: AttackError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected \(code)", sourceLocation: sourceLocation)
    } catch let error as AttackError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected an AttackError, got \(error)", sourceLocation: sourceLocation)
    }
}

/// The ``ConfigError`` `body` throws, or `nil` (recorded as an issue).
func configError(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) -> ConfigError? {
    do {
        try body()
        Issue.record("expected a ConfigError", sourceLocation: sourceLocation)
    } catch let error as ConfigError {
        return error
    } catch {
        Issue.record("expected a ConfigError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
