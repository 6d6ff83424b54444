import FedArenaCore
import FedArenaRuntime
import FedArenaWire
import Testing

/// Error feedback on compressed updates, with residuals worked out by hand.
struct UpdateCompressorTests {
    private func update(_ client: Int, _ values: [Float]) -> WireMessage.Update {
        WireMessage.Update(round: 1, client: ClientID(client), sampleCount: 1, trainLoss: 0, delta: ParameterVector(values))
    }

    @Test func theResidualIsCarriedIntoTheNextUpdate() throws {
        // int8, blocks of 2. Round 1 sends Δ = [1, 0.004]: s = 1/127, 0.004 · 127 = 0.508 -> code 1,
        // so the coordinator gets [1, 1/127] and the residual is [0, 0.004 - 1/127].
        var compressor = UpdateCompressor(compression: .int8(blockSize: 2), errorFeedback: true)
        let first = compressor.compress(update(0, [1, 0.004]))
        let step: Float = 1 / 127
        #expect(first.delta.values == [1, step])
        let residual = try #require(compressor.residual(of: ClientID(0)))
        #expect(residual[0] == 0)
        #expect(abs(Double(residual[1]) - (0.004 - 1.0 / 127)) < 1e-9)
        // Round 2 sends the same Δ: target [1, 0.004 + residual] = [1, 0.000126] -> code round(0.016) = 0.
        let second = compressor.compress(update(0, [1, 0.004]))
        #expect(second.delta.values == [1, 0])
        // What arrived over both rounds, 1/127 + 0 in coordinate 1, is 2 · 0.004 minus the last residual.
        let last = try #require(compressor.residual(of: ClientID(0)))
        #expect(abs(Double(first.delta.values[1] + second.delta.values[1]) - (0.008 - Double(last[1]))) < 1e-8)
        // Without feedback the second round would have sent 1/127 again: the error would pile up.
        var plain = UpdateCompressor(compression: .int8(blockSize: 2), errorFeedback: false)
        _ = plain.compress(update(0, [1, 0.004]))
        #expect(plain.compress(update(0, [1, 0.004])).delta.values == [1, step])
        #expect(plain.residual(of: ClientID(0)) == nil)
    }

    @Test func whatArrivesSumsToWhatWasComputedMinusTheLastResidual() throws {
        // Telescoping: Σ_t D(C(Δ_t + e_{t-1})) = Σ_t Δ_t - e_T, for every coordinate, up to float32 rounding.
        var compressor = UpdateCompressor(compression: .float16, errorFeedback: true)
        var computed = [Double](repeating: 0, count: 3)
        var arrived = [Double](repeating: 0, count: 3)
        for round in 1...50 {
            let delta: [Float] = [1e-4 * Float(round), -3.3e-5, 0.1 + 1e-6 * Float(round)]
            let sent = compressor.compress(update(7, delta)).delta.values
            for index in 0..<3 {
                computed[index] += Double(delta[index])
                arrived[index] += Double(sent[index])
            }
        }
        let residual = try #require(compressor.residual(of: ClientID(7)))
        for index in 0..<3 {
            #expect(abs(arrived[index] - (computed[index] - Double(residual[index]))) < 1e-6, "coordinate \(index)")
        }
    }

    @Test func residualsArePerClientAndNoneSendsFloat32() {
        var compressor = UpdateCompressor(compression: .int8(blockSize: 4), errorFeedback: true)
        _ = compressor.compress(update(1, [1, 0.003]))
        #expect(compressor.residual(of: ClientID(1)) != nil && compressor.residual(of: ClientID(2)) == nil)
        // Client 2's first update is not shifted by client 1's residual: [1, 0.003] -> codes 127, 0.
        #expect(compressor.compress(update(2, [1, 0.003])).delta.values == [1, 0])

        var none = UpdateCompressor(compression: .none, errorFeedback: true)
        let sent = none.compress(update(1, [0.1, 0.2]))
        #expect(sent.compressedDelta == nil && sent.delta.values == [0.1, 0.2])
        #expect(none.errorFeedback == false)
    }
}
