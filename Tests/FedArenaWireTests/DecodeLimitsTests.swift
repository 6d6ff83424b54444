import FedArenaCore
import FedArenaWire
import Foundation
import Testing

struct DecodeLimitsTests {
    @Test func coordinatorLimitsFollowTheModelSize() {
        // UPDATE: 16 + 40 + 4 + 4*100 + 4 + 64*(4 + 1024 + 8) + 1 + 1 + 1 = 66,771 bytes.
        let plain = DecodeLimits.coordinator(parameterCount: 100, clients: 8)
        #expect(plain.maxMessageBytes == 66_771)
        #expect(plain.expectedParameterCount == 100)
        #expect(plain.maxClients == 8)
        // + sketch 8 + 4 + 4*10 + 4 + 4*10*64 = 2,616; + audit 8 + 8 + 4 + 4*5 + 4 + 4*5*784 = 15,724.
        let full = DecodeLimits.coordinator(parameterCount: 100, clients: 8, sketch: (10, 64), auditSamples: (5, 784))
        #expect(full.maxMessageBytes == 66_771 + 2_616 + 15_724)
        // A HELLO of 100,000 clients: 16 + 8 + 4 + 8*100,000 + 4 + 1,024 = 801,056 bytes outweighs a tiny model.
        #expect(DecodeLimits.coordinator(parameterCount: 10, clients: 100_000).maxMessageBytes == 801_056)
        // MLP 784-100-10 (79,510 parameters) is about 0.38 MiB, far below the old 512 MiB.
        #expect(DecodeLimits.coordinator(parameterCount: 79_510, clients: 100).maxMessageBytes < 400_000)
    }

    @Test func theLargestValidUpdateFitsExactly() throws {
        let limits = DecodeLimits.coordinator(parameterCount: 6, clients: 4, sketch: (3, 2), auditSamples: (2, 5))
        var metrics = [String: Double]()
        for index in 0..<64 { metrics[String(format: "%04d", index) + String(repeating: "k", count: 1_020)] = Double(index) }
        var update = WireMessage.Update(
            round: 1, nonce: 9, client: ClientID(0), sampleCount: 1, trainLoss: 0.5, delta: ParameterVector(zeros: 6), metrics: metrics,
            sketch: DataSketch(classEmbeddings: Array(repeating: 0.5, count: 6), dimension: 2, labelHistogram: [1, 2, 3]))
        update.auditSamples = LabeledSamples(features: Array(repeating: 0.5, count: 10), labels: [0, 1], featureCount: 5, classCount: 3)
        let bytes = WireCodec.encode(.update(update))
        #expect(bytes.count == limits.maxMessageBytes)
        #expect(try WireCodec.decode(bytes, limits: limits) == .update(update))
        // One more metric byte is over every limit.
        var longer = update
        longer.metrics["0000" + String(repeating: "k", count: 1_021)] = 1
        #expect(throws: WireError.self) { try WireCodec.decode(WireCodec.encode(.update(longer)), limits: limits) }
    }
}
