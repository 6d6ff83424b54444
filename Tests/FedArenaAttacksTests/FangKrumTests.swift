import FedArenaAttacks
import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import Testing

@Suite struct FangKrumTests {
    // Updates with a small mean and a large spread, like stochastic gradients: 8 benign, 2 malicious.
    let benign = noisyRows(8, d: 20, mean: 0.1, sigma: 1, seed: 11)
    let malicious = noisyRows(2, d: 20, mean: 0.1, sigma: 1, seed: 12)

    @Test func localKrumScoresMatchAHandExample() {
        // Line 0, 1, 3 with f = 0: k = 1 nearest -> scores 1, 1, 4; ties to the lower index.
        let updates = vectors([[0], [1], [3]])
        let scores = FangKrum.krumScores(updates, f: 0)
        #expect(zip(scores, [1.0, 1, 4]).allSatisfy { abs($0 - $1) < 1e-5 })
        #expect(scores[0] == scores[1])
        #expect(FangKrum.krumSelection(updates, f: 0) == 0)
    }

    /// The attacker's Krum is the defender's: on updates sharing a large component (where a
    /// float32 Gram matrix picks wrongly) both make the float64 choice. Reference: a plain
    /// float64 loop over the same float32 rows.
    @Test(arguments: [Float(0.5), 5, 50])
    func attackerAndDefenderMakeTheFloat64Choice(offset: Float) throws {
        let rows = noisyRows(12, d: 3_000, mean: offset, sigma: 0.01, seed: 31)
        let f = 3
        let exact = rows.map { a in
            rows.map { b in zip(a, b).reduce(0.0) { $0 + (Double($1.0) - Double($1.1)) * (Double($1.0) - Double($1.1)) } }
        }
        let scores = exact.indices.map { i in exact[i].indices.filter { $0 != i }.map { exact[i][$0] }.sorted().prefix(12 - f - 2).reduce(0, +) }
        let best = scores.indices.min { (scores[$0], $0) < (scores[$1], $1) }!
        #expect(FangKrum.krumSelection(vectors(rows), f: f) == best)
        var rng = SeededGenerator(seed: 1)
        let defender = try Krum(f: f).aggregate(clientUpdates(rows), context: roundContext(3_000), using: &rng)
        #expect(defender.selected == [ClientID(best)])
    }

    @Test func localKrumAgreesWithTheDefenseKrum() throws {
        for seed in UInt64(1)...5 {
            let rows = noisyRows(9, d: 6, mean: 0, sigma: 1, seed: seed)
            var rng = SeededGenerator(seed: 1)
            let result = try Krum(f: 2).aggregate(clientUpdates(rows), context: roundContext(6), using: &rng)
            #expect(result.selected == [ClientID(FangKrum.krumSelection(vectors(rows), f: 2))])
        }
    }

    @Test func krumSelectsTheCraftedUpdate() throws {
        let attack = try FangKrum(f: 2)
        let ctx = context(malicious: malicious, benign: benign)
        let outcome = try attack.search(ctx)
        #expect(outcome.selected)
        #expect(outcome.lambda > 0)
        // −λ·s with s the sign of the honest mean: every coordinate is ±λ, against the mean.
        let honestMean = (0..<20).map { j in (benign + malicious).reduce(Float(0)) { $0 + $1[j] } }
        for j in 0..<20 { #expect(abs(outcome.update.values[j]) == Float(outcome.lambda) && outcome.update.values[j] * honestMean[j] < 0) }
        let crafted = try craft(attack, ctx)
        #expect(crafted.count == 2 && crafted[0] == outcome.update.values && crafted[1] == crafted[0])
        // The local Krum on what the coordinator receives picks a crafted copy ...
        let received = benign + crafted
        #expect(FangKrum.krumSelection(vectors(received), f: 2) >= 8)
        // ... and so does the defenses' Krum.
        var rng = SeededGenerator(seed: 1)
        let krum = try Krum(f: 2).aggregate(clientUpdates(received), context: roundContext(20), using: &rng)
        #expect(krum.selected.allSatisfy { $0.rawValue >= 8 } && krum.selected.count == 1)
        #expect(close(krum.aggregate.values, crafted[0]))
    }

    @Test func takesFFromTheContextAndNeedsBenignUpdates() throws {
        let fromContext = try FangKrum().search(context(malicious: malicious, benign: benign, f: 2))
        #expect(fromContext == (try FangKrum(f: 2).search(context(malicious: malicious, benign: benign))))
        expectAttackError(.insufficientKnowledge) { _ = try FangKrum().search(context(malicious: malicious)) }
        expectAttackError(.invalidConfiguration) { _ = try FangKrum(f: -1) }
    }
}
