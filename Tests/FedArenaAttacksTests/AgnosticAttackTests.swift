import FedArenaAttacks
import FedArenaCore
import Testing

/// Checks shared by the min-max and min-sum tests.
enum AgnosticChecks {
    /// The largest γ of `μ + γp` with every `‖μ + γp − ∇_i‖² ≤ T` (max) or their sum ≤ T,
    /// from the quadratics' roots.
    static func exactGamma(_ rows: [[Float]], perturbation: Perturbation, sum: Bool) -> Double {
        let n = rows.count
        let d = rows[0].count
        let mean = (0..<d).map { j in rows.reduce(0.0) { $0 + Double($1[j]) } / Double(n) }
        let std = (0..<d).map { j in (rows.reduce(0.0) { $0 + (Double($1[j]) - mean[j]) * (Double($1[j]) - mean[j]) } / Double(n - 1)).squareRoot() }
        let norm = mean.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let p: [Double] = switch perturbation {
        case .unit: mean.map { -$0 / norm }
        case .sign: mean.map { $0 > 0 ? -1 : ($0 < 0 ? 1 : 0) }
        case .std: std.map { -$0 }
        }
        let pp = p.reduce(0) { $0 + $1 * $1 }
        let a = rows.map { r in (0..<d).reduce(0.0) { $0 + (mean[$1] - Double(r[$1])) * (mean[$1] - Double(r[$1])) } }
        let b = rows.map { r in (0..<d).reduce(0.0) { $0 + p[$1] * (mean[$1] - Double(r[$1])) } }
        let pair = (0..<n).map { i in (0..<n).map { j in squaredDistance(rows[i], rows[j]) } }
        if sum {
            let t = pair.map { $0.reduce(0, +) }.max()!
            let sa = a.reduce(0, +)
            let sb = b.reduce(0, +)  // 0 up to rounding
            let qa = Double(n) * pp
            return (-2 * sb + ((2 * sb) * (2 * sb) - 4 * qa * (sa - t)).squareRoot()) / (2 * qa)
        }
        let t = pair.map { $0.max()! }.max()!
        return (0..<n).map { i in (-b[i] + (b[i] * b[i] - pp * (a[i] - t)).squareRoot()) / pp }.min()!
    }
}

@Suite struct AgnosticAttackTests {
    @Test func minMaxHandExample() throws {
        // Reference [0, 0], [2, 0]: μ = [1, 0], σ = [√2, 0], T = 4; the bound is reached at
        // 1 + 2√2γ + 2γ² = 4, γ = √2/2, i.e. the crafted update [0, 0].
        let (update, gamma) = try AgnosticAttack(criterion: .minMax, perturbation: .std).search(context(malicious: [[0, 0], [2, 0]]))
        #expect(abs(gamma - 0.5.squareRoot()) < 1e-4)
        #expect(close(update.values, [0, 0], 1e-4))
    }

    @Test(arguments: Perturbation.allCases)
    func minMaxGammaIsMaximalUnderTheConstraint(perturbation: Perturbation) throws {
        let rows = noisyRows(5, d: 12, mean: 0.5, sigma: 1, seed: 21)
        let attack = try AgnosticAttack(criterion: .minMax, perturbation: perturbation)
        let (update, gamma) = try attack.search(context(malicious: Array(rows.prefix(2)), benign: Array(rows.dropFirst(2))))
        let exact = AgnosticChecks.exactGamma(rows, perturbation: perturbation, sum: false)
        #expect(gamma <= exact && gamma >= exact * (1 - 1e-4), "\(gamma) vs \(exact)")
        let bound = rows.flatMap { r in rows.map { squaredDistance(r, $0) } }.max()!
        let worst = rows.map { squaredDistance(update.values, $0) }.max()!
        #expect(worst <= bound * (1 + 1e-5))
    }

    @Test func partialKnowledgeUsesOnlyTheMaliciousUpdates() throws {
        let rows = noisyRows(6, d: 8, mean: 0.2, sigma: 1, seed: 8)
        let partial = try AgnosticAttack(criterion: .minMax).search(context(malicious: Array(rows.prefix(3)))).gamma
        #expect(abs(partial - AgnosticChecks.exactGamma(Array(rows.prefix(3)), perturbation: .std, sum: false)) < 1e-3 * partial)
        let crafted = try craft(try AgnosticAttack(criterion: .minMax), context(malicious: Array(rows.prefix(3))))
        #expect(crafted.count == 3 && crafted.allSatisfy { $0 == crafted[0] })
        expectAttackError(.insufficientKnowledge) { _ = try AgnosticAttack(criterion: .minMax).search(context(malicious: [rows[0]])) }
        expectAttackError(.invalidConfiguration) { _ = try AgnosticAttack(criterion: .minSum, gammaInit: 0) }
    }

    /// One rule, two objectives: both YAML names build it, with the name of the objective.
    @Test func bothYAMLNamesBuildTheOneAttack() throws {
        for kind in ["min-max", "min-sum"] {
            let plan = try AttackRegistry.standard.make(ComponentSpec(kind: kind, options: ["perturbation": .string("sign")], keyPath: "attack"))
            let attack = try #require(plan.updateAttack as? AgnosticAttack)
            #expect(attack.name == kind && attack.criterion.rawValue == kind && attack.perturbation == .sign)
        }
    }

    /// The threshold comes from the defenders' distances, accurate when every update shares a
    /// large component: with an offset of 40 on a spread of 0.01, γ is the float64 γ.
    @Test(arguments: AgnosticAttack.Criterion.allCases)
    func largeCommonOffsetKeepsTheFloat64Gamma(criterion: AgnosticAttack.Criterion) throws {
        let rows = noisyRows(6, d: 2_000, mean: 0, sigma: 0.01, seed: 23).map { $0.map { $0 + 40 } }
        let gamma = try AgnosticAttack(criterion: criterion, perturbation: .std).search(context(malicious: rows)).gamma
        let exact = AgnosticChecks.exactGamma(rows, perturbation: .std, sum: criterion == .minSum)
        #expect(gamma <= exact * (1 + 1e-6) && gamma >= exact * (1 - 1e-3), "\(gamma) vs \(exact)")
    }

    @Test func minSumHandExample() throws {
        // Reference [0, 0], [2, 0]: Σ‖μ − ∇_i‖² = 2, T = 4, n‖p‖² = 4: γ = √((4 − 2)/4).
        let (update, gamma) = try AgnosticAttack(criterion: .minSum, perturbation: .std).search(context(malicious: [[0, 0], [2, 0]]))
        #expect(abs(gamma - 0.5.squareRoot()) < 1e-4)
        #expect(close(update.values, [0, 0], 1e-4))
    }

    @Test(arguments: Perturbation.allCases)
    func minSumGammaIsMaximalUnderTheConstraint(perturbation: Perturbation) throws {
        let rows = noisyRows(5, d: 12, mean: 0.5, sigma: 1, seed: 22)
        let (update, gamma) = try AgnosticAttack(criterion: .minSum, perturbation: perturbation).search(context(malicious: rows))
        let exact = AgnosticChecks.exactGamma(rows, perturbation: perturbation, sum: true)
        #expect(gamma <= exact && gamma >= exact * (1 - 1e-4), "\(gamma) vs \(exact)")
        let bound = rows.map { r in rows.reduce(0) { $0 + squaredDistance(r, $1) } }.max()!
        #expect(rows.reduce(0) { $0 + squaredDistance(update.values, $1) } <= bound * (1 + 1e-5))
    }
}
