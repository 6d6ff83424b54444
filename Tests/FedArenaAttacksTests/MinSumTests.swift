import FedArenaAttacks
import FedArenaCore
import Testing

@Suite struct MinSumTests {
    @Test func handExample() throws {
        // Reference [0, 0], [2, 0]: Σ‖μ − ∇_i‖² = 2, T = 4, n‖p‖² = 4: γ = √((4 − 2)/4).
        let (update, gamma) = try MinSum(perturbation: .std).search(context(malicious: [[0, 0], [2, 0]]))
        #expect(abs(gamma - 0.5.squareRoot()) < 1e-4)
        #expect(close(update.values, [0, 0], 1e-4))
    }

    @Test(arguments: Perturbation.allCases)
    func gammaIsMaximalUnderTheConstraint(perturbation: Perturbation) throws {
        let rows = noisyRows(5, d: 12, mean: 0.5, sigma: 1, seed: 22)
        let (update, gamma) = try MinSum(perturbation: perturbation).search(context(malicious: rows))
        let exact = AgnosticChecks.exactGamma(rows, perturbation: perturbation, sum: true)
        #expect(gamma <= exact && gamma >= exact * (1 - 1e-4), "\(gamma) vs \(exact)")
        let bound = rows.map { r in rows.reduce(0) { $0 + squaredDistance(r, $1) } }.max()!
        #expect(rows.reduce(0) { $0 + squaredDistance(update.values, $1) } <= bound * (1 + 1e-5))
    }
}
