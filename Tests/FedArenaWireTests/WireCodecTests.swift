import FedArenaCore
import FedArenaWire
import Testing

struct WireCodecTests {
    // MARK: Round trips

    @Test(arguments: 0..<4)
    func randomMessagesRoundTrip(seed: UInt64) throws {
        var random = RandomMessages(seed: 1_000 + seed)
        var kinds: [WireMessage.Kind: Int] = [:]
        for _ in 0..<1_000 {
            let message = random.message()
            let bytes = WireCodec.encode(message)
            let decoded = try WireCodec.decode(bytes)
            #expect(decoded == message)
            #expect(WireCodec.encode(decoded) == bytes)
            kinds[message.kind, default: 0] += 1
        }
        #expect(kinds.count == WireMessage.Kind.allCases.count)
        #expect(kinds.values.allSatisfy { $0 > 100 })
    }

    @Test func updateWithExpectedDimensionRoundTrips() throws {
        let delta = ParameterVector((0..<79_510).map { Float($0) * 0.001 - 40 })
        let update = WireMessage.update(.init(
            round: 3, client: ClientID(17), sampleCount: 1_200, trainLoss: 0.25, delta: delta,
            metrics: ["accuracy": 0.91, "norm": 3.5]))
        let bytes = WireCodec.encode(update)
        // Header, round + nonce + client + sampleCount + trainLoss, delta, two metrics, three flags.
        #expect(bytes.count == 16 + 8 * 5 + 4 + 79_510 * 4 + 4 + (4 + 8 + 8) + (4 + 4 + 8) + 1 + 1 + 1)
        let decoded = try WireCodec.decode(bytes, limits: DecodeLimits(expectedParameterCount: 79_510))
        #expect(decoded == update)
    }

    @Test func specialFiniteValuesSurviveBitExactly() throws {
        let values: [Float] = [0, -0.0, .leastNonzeroMagnitude, -.leastNormalMagnitude, .greatestFiniteMagnitude, -1]
        let bytes = WireCodec.encode(.train(.init(round: 0, roundSeed: .max, clients: [], model: ParameterVector(values))))
        guard case .train(let train) = try WireCodec.decode(bytes) else {
            Issue.record("not a TRAIN")
            return
        }
        #expect(train.model.values.map(\.bitPattern) == values.map(\.bitPattern))
        #expect(train.roundSeed == .max)
    }

    // MARK: Layout

    @Test func headerLayoutIsAsDocumented() {
        let bytes = WireCodec.encode(.shutdown(.init(reason: "bye")))
        #expect(bytes.count == 16 + 4 + 3)
        #expect(Array(bytes[0..<4]) == [0x46, 0x41, 0x52, 0x57])
        #expect(Array(bytes[4..<6]) == [3, 0])  // version 3, little-endian
        #expect(bytes[6] == 5)  // SHUTDOWN
        #expect(bytes[7] == 0)  // flags
        #expect(Array(bytes[8..<12]) == [7, 0, 0, 0])  // payload length
        #expect(Array(bytes[16...]) == [3, 0, 0, 0, 0x62, 0x79, 0x65])
        let crc = CRC32.checksum(Array(bytes[0..<12]) + Array(bytes[16...]))
        #expect(Array(bytes[12..<16]) == Frame.le(crc))
    }

    @Test func updatePayloadLayoutIsAsDocumented() {
        let bytes = WireCodec.encode(.update(.init(
            round: 2, nonce: 0xDEAD_BEEF_0123_4567, client: ClientID(5), sampleCount: 9, trainLoss: 1.5, delta: ParameterVector([1, -2]),
            metrics: ["b": 2, "a": 1])))
        var expected = Frame.le(Int64(2)) + [0x67, 0x45, 0x23, 0x01, 0xEF, 0xBE, 0xAD, 0xDE]
        expected += Frame.le(Int64(5)) + Frame.le(Int64(9)) + Frame.le((1.5).bitPattern)
        expected += Frame.le(UInt32(2)) + Frame.le(Float(1).bitPattern) + Frame.le(Float(-2).bitPattern)
        expected += Frame.le(UInt32(2)) + Frame.str("a") + Frame.le((1.0).bitPattern) + Frame.str("b") + Frame.le((2.0).bitPattern)
        expected += [0, 0, 0]  // no sketch, no audit samples, no commitment
        #expect(bytes[6] == 4)
        #expect(Frame.payload(of: bytes) == expected)
    }

    @Test func trainPayloadLayoutIsAsDocumented() {
        let bytes = WireCodec.encode(.train(.init(
            round: 7, roundSeed: 0x0102_0304_0506_0708, nonce: 0xA1A2_A3A4_A5A6_A7A8, clients: [ClientID(3)],
            model: ParameterVector([0.5]))))
        var expected = Frame.le(Int64(7)) + [8, 7, 6, 5, 4, 3, 2, 1] + [0xA8, 0xA7, 0xA6, 0xA5, 0xA4, 0xA3, 0xA2, 0xA1]
        expected += Frame.le(UInt32(1)) + Frame.le(Int64(3)) + Frame.le(UInt32(1)) + Frame.le(Float(0.5).bitPattern)
        #expect(bytes[6] == 3)
        #expect(Frame.payload(of: bytes) == expected)
    }

    @Test func noncesSurviveTheRoundTripBitExactly() throws {
        for nonce: UInt64 in [0, 1, 0x8000_0000_0000_0000, .max] {
            let train = WireMessage.train(.init(round: 1, roundSeed: 2, nonce: nonce, clients: [], model: ParameterVector([])))
            #expect(try WireCodec.decode(WireCodec.encode(train)) == train)
            let update = WireMessage.update(.init(round: 1, nonce: nonce, client: ClientID(0), sampleCount: 1, trainLoss: 0, delta: ParameterVector([])))
            guard case .update(let decoded) = try WireCodec.decode(WireCodec.encode(update)) else {
                Issue.record("not an UPDATE")
                return
            }
            #expect(decoded.nonce == nonce)
        }
    }

    @Test func anUpdateCutInsideItsNonceIsTruncated() {
        let payload = Frame.le(Int64(1)) + [1, 2, 3, 4, 5]
        let error = decodeError(Frame.message(type: 4, payload: payload))
        #expect(error?.code == .truncated)
        #expect(error?.message.contains("UPDATE.nonce") == true)
    }

    // MARK: Header rejections

    @Test func everyTruncationIsRejectedAsTruncated() {
        var random = RandomMessages(seed: 5)
        var samples: [WireMessage] = (0..<24).map { _ in random.message() }
        samples.append(.update(.init(round: 1, client: ClientID(2), sampleCount: 3, trainLoss: 0.5,
                                     delta: ParameterVector([1, 2, 3]), metrics: ["x": 1])))
        for message in samples {
            let bytes = WireCodec.encode(message)
            for length in 0..<bytes.count {
                let error = decodeError(Array(bytes[..<length]))
                #expect(error?.code == .truncated, "\(message.kind) cut to \(length) of \(bytes.count) bytes: \(String(describing: error))")
            }
        }
    }

    @Test func truncatedPayloadWithValidFramingIsRejectedAsTruncated() {
        var random = RandomMessages(seed: 6)
        for _ in 0..<40 {
            let bytes = WireCodec.encode(random.message())
            let payload = Frame.payload(of: bytes)
            for length in 0..<payload.count {
                let cut = Frame.reframe(bytes, payload: Array(payload[..<length]))
                #expect(decodeError(cut)?.code == .truncated, "payload cut to \(length) of \(payload.count)")
            }
        }
    }

    @Test func wrongVersionIsRejected() {
        var bytes = WireCodec.encode(.shutdown(.init(reason: "x")))
        // Versions 1 (before the round nonce) and 2 (before the training audit) are refused like any other unknown version.
        for version: UInt16 in [0, 1, 2, 4, 0x0300, .max] {
            bytes.replaceSubrange(4..<6, with: Frame.le(version))
            let error = decodeError(Frame.fixChecksum(bytes))
            #expect(error?.code == .unsupportedVersion)
            #expect(error?.message.contains("\(version)") == true)
        }
    }

    @Test func badMagicAndUnknownTypeAreRejected() {
        let bytes = WireCodec.encode(.shutdown(.init(reason: "x")))
        var magic = bytes
        magic[2] = 0x00
        #expect(decodeError(magic)?.code == .badMagic)
        #expect(decodeError([0x47])?.code == .badMagic)
        for type: UInt8 in [0, 9, 0xFF] {
            var typed = bytes
            typed[6] = type
            #expect(decodeError(Frame.fixChecksum(typed))?.code == .unknownType)
        }
    }

    @Test func reservedFlagsAndTrailingBytesAreMalformed() {
        let bytes = WireCodec.encode(.error(.init(code: 3, message: "no")))
        var flagged = bytes
        flagged[7] = 1
        #expect(decodeError(Frame.fixChecksum(flagged))?.code == .malformed)
        #expect(decodeError(bytes + [0])?.code == .malformed)
        // Trailing bytes inside a payload whose length covers them.
        let padded = Frame.reframe(bytes, payload: Frame.payload(of: bytes) + [0, 0])
        let error = decodeError(padded)
        #expect(error?.code == .malformed)
        #expect(error?.message.contains("2 unread bytes") == true)
    }

    @Test func oversizedMessagesAreRejectedBeforeReading() {
        let bytes = WireCodec.encode(.train(.init(round: 1, roundSeed: 1, clients: [], model: ParameterVector(zeros: 100))))
        #expect(decodeError(bytes, limits: DecodeLimits(maxMessageBytes: bytes.count - 1))?.code == .oversized)
        #expect(decodeError(bytes, limits: DecodeLimits(maxMessageBytes: bytes.count)) == nil)
        // A header declaring 4 GiB - 1 with a tiny buffer: oversized, never allocated.
        var huge = Array(bytes[0..<16])
        huge.replaceSubrange(8..<12, with: Frame.le(UInt32.max))
        #expect(decodeError(huge)?.code == .oversized)
        // A declared length within limits but beyond the buffer: truncated.
        huge.replaceSubrange(8..<12, with: Frame.le(UInt32(1_000)))
        #expect(decodeError(huge)?.code == .truncated)
    }

    @Test func checksumMismatchIsDetected() {
        let bytes = WireCodec.encode(.update(.init(round: 1, client: ClientID(1), sampleCount: 1, trainLoss: 0,
                                                   delta: ParameterVector([1, 2, 3]))))
        for index in [12, 16, 20, bytes.count - 1] {
            var flipped = bytes
            flipped[index] ^= 0x10
            #expect(decodeError(flipped)?.code == .checksumMismatch, "flip at \(index)")
        }
        // The checksum covers the type byte: UPDATE relabelled as TRAIN is caught there.
        var relabelled = bytes
        relabelled[6] = WireMessage.Kind.train.rawValue
        #expect(decodeError(relabelled)?.code == .checksumMismatch)
    }

    // MARK: Payload rejections

    @Test(arguments: [Float.nan, .infinity, -.infinity, Float(bitPattern: 0x7FA0_0001)])
    func nonFiniteDeltaIsRejectedNamingTheIndex(bad: Float) {
        var values = [Float](repeating: 0.5, count: 10)
        values[7] = bad
        let bytes = WireCodec.encode(.update(.init(round: 1, client: ClientID(1), sampleCount: 1, trainLoss: 0,
                                                   delta: ParameterVector(values))))
        let error = decodeError(bytes)  // the CRC is valid: only the finite check can object
        #expect(error?.code == .nonFinite)
        #expect(error?.message.contains("delta[7]") == true)
    }

    @Test func nonFiniteModelAndMetricsAreRejectedButALossIsADiagnostic() throws {
        let model = WireCodec.encode(.train(.init(round: 0, roundSeed: 0, clients: [], model: ParameterVector([1, -.infinity]))))
        #expect(decodeError(model)?.code == .nonFinite)
        #expect(decodeError(model)?.message.contains("model[1]") == true)
        for loss in [Double.nan, .infinity, -.infinity] {
            let update = WireCodec.encode(.update(.init(round: 0, client: ClientID(0), sampleCount: 0, trainLoss: loss,
                                                        delta: ParameterVector([]))))
            guard case .update(let decoded) = try WireCodec.decode(update) else {
                Issue.record("expected an UPDATE")
                continue
            }
            #expect(decoded.trainLoss.bitPattern == loss.bitPattern)
        }
        let metric = WireCodec.encode(.update(.init(round: 0, client: ClientID(0), sampleCount: 0, trainLoss: 0,
                                                    delta: ParameterVector([]), metrics: ["ok": 1, "pain": .nan])))
        #expect(decodeError(metric)?.code == .nonFinite)
        #expect(decodeError(metric)?.message.contains("pain") == true)
    }

    @Test func dimensionMismatchIsRejected() throws {
        let limits = DecodeLimits(expectedParameterCount: 10)
        let short = WireCodec.encode(.update(.init(round: 0, client: ClientID(0), sampleCount: 1, trainLoss: 0,
                                                   delta: ParameterVector(zeros: 9))))
        let long = WireCodec.encode(.train(.init(round: 0, roundSeed: 0, clients: [], model: ParameterVector(zeros: 11))))
        let right = WireCodec.encode(.train(.init(round: 0, roundSeed: 0, clients: [], model: ParameterVector(zeros: 10))))
        #expect(decodeError(short, limits: limits)?.code == .dimensionMismatch)
        #expect(decodeError(short, limits: limits)?.message.contains("9 parameters, expected 10") == true)
        #expect(decodeError(long, limits: limits)?.code == .dimensionMismatch)
        #expect(decodeError(short) == nil)
        #expect(try WireCodec.decode(right, limits: limits).kind == .train)
    }

    @Test func listAndStringLimitsAreEnforced() {
        let hello = WireCodec.encode(.hello(.init(processIndex: 0, clients: (0..<5).map(ClientID.init), label: "abcdef")))
        #expect(decodeError(hello, limits: DecodeLimits(maxClients: 4))?.code == .oversized)
        #expect(decodeError(hello, limits: DecodeLimits(maxStringBytes: 5))?.code == .oversized)
        #expect(decodeError(hello, limits: DecodeLimits(maxClients: 5, maxStringBytes: 6)) == nil)
        let update = WireCodec.encode(.update(.init(round: 0, client: ClientID(0), sampleCount: 0, trainLoss: 0,
                                                    delta: ParameterVector([]), metrics: ["a": 1, "b": 2])))
        #expect(decodeError(update, limits: DecodeLimits(maxMetrics: 1))?.code == .oversized)
    }

    @Test func hugeInnerCountsAreRejectedWithoutAllocating() {
        // A WELCOME whose scenarioJSON claims 4 GiB - 1 bytes, inside a small valid frame.
        let payload = Frame.str("run") + Frame.le(UInt32.max) + [1, 2, 3]
        #expect(decodeError(Frame.message(type: 2, payload: payload))?.code == .truncated)
        // A TRAIN whose model claims 2^30 floats.
        let train = Frame.le(Int64(0)) + Frame.le(UInt64(0)) + Frame.le(UInt64(0)) + Frame.le(UInt32(0)) + Frame.le(UInt32(1 << 30))
        #expect(decodeError(Frame.message(type: 3, payload: train))?.code == .truncated)
        // A HELLO whose client list claims 2^32 - 1 entries: over maxClients first.
        let hello = Frame.le(Int64(0)) + Frame.le(UInt32.max)
        #expect(decodeError(Frame.message(type: 1, payload: hello))?.code == .oversized)
    }

    @Test func invalidUTF8IsMalformed() {
        for bad: [UInt8] in [[0xFF], [0xC3], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xC0, 0xAF]] {
            let payload = Frame.le(UInt32(bad.count)) + bad
            let error = decodeError(Frame.message(type: 5, payload: payload))
            #expect(error?.code == .malformed, "\(bad)")
            #expect(error?.message.contains("UTF-8") == true)
        }
    }

    @Test func sketchRoundTripsAndIsValidated() throws {
        let sketch = DataSketch(classEmbeddings: [0.5, -0.25, 1, 2, 0, 0], dimension: 2, labelHistogram: [3, 7, 0])
        let message = WireMessage.update(.init(
            round: 1, client: ClientID(2), sampleCount: 10, trainLoss: 0.5, delta: ParameterVector([1, 2, 3]), sketch: sketch))
        let limits = DecodeLimits(expectedParameterCount: 3)
        #expect(try WireCodec.decode(WireCodec.encode(message), limits: limits) == message)
        var payload = Frame.payload(of: WireCodec.encode(message))
        var bad = payload
        bad[payload.count - 1 - 1 - 4 * 6 - 4 - 4 * 3 - 4 - 8 - 1] = 2  // the sketch flag (before the audit and commitment flags)
        #expect(decodeError(Frame.message(type: 4, payload: bad))?.code == .malformed)
        // Embeddings that do not match classes x dimension.
        let mismatched = WireMessage.update(.init(
            round: 1, client: ClientID(2), sampleCount: 10, trainLoss: 0.5, delta: ParameterVector([1, 2, 3]),
            sketch: DataSketch(classEmbeddings: [1, 2, 3], dimension: 2, labelHistogram: [1, 1])))
        #expect(decodeError(WireCodec.encode(mismatched))?.code == .malformed)
        // A fractional count in the histogram.
        payload = Frame.payload(of: WireCodec.encode(message))
        let histogramStart = payload.count - 1 - 4 * 6 - 4 - 4 * 3
        payload.replaceSubrange(histogramStart..<(histogramStart + 4), with: Frame.le(Float(0.5).bitPattern))
        #expect(decodeError(Frame.message(type: 4, payload: payload))?.code == .malformed)
    }

    @Test func auditSamplesRoundTripAndAreValidated() throws {
        var update = WireMessage.Update(round: 1, client: ClientID(0), sampleCount: 3, trainLoss: 0.1, delta: ParameterVector([1]))
        update.auditSamples = LabeledSamples(features: [0, 0.5, 1, 0.25], labels: [1, 0], featureCount: 2, classCount: 3)
        #expect(try WireCodec.decode(WireCodec.encode(.update(update)), limits: DecodeLimits(expectedParameterCount: 1)) == .update(update))
        update.auditSamples = LabeledSamples(features: [0, 1.5], labels: [1], featureCount: 2, classCount: 3)
        #expect(decodeError(WireCodec.encode(.update(update)))?.code == .malformed)
        update.auditSamples = LabeledSamples(features: [0, 1], labels: [7], featureCount: 2, classCount: 3)
        #expect(decodeError(WireCodec.encode(.update(update)))?.code == .malformed)
    }

    @Test func negativeIndicesAndCountsAreMalformed() {
        let messages: [WireMessage] = [
            .hello(.init(processIndex: -1, clients: [], label: "")),
            .hello(.init(processIndex: 0, clients: [ClientID(1), ClientID(-3)], label: "")),
            .welcome(.init(runID: "r", scenarioJSON: [], parameterCount: -5)),
            .train(.init(round: -1, roundSeed: 0, clients: [], model: ParameterVector([]))),
            .update(.init(round: 0, client: ClientID(-1), sampleCount: 0, trainLoss: 0, delta: ParameterVector([]))),
            .update(.init(round: 0, client: ClientID(0), sampleCount: -10, trainLoss: 0, delta: ParameterVector([]))),
        ]
        for message in messages {
            #expect(decodeError(WireCodec.encode(message))?.code == .malformed, "\(message)")
        }
    }

    @Test func metricKeysMustBeSortedAndUnique() {
        let prefix = Frame.le(Int64(0)) + Frame.le(UInt64(0)) + Frame.le(Int64(0)) + Frame.le(Int64(0)) + Frame.le((0.0).bitPattern)
            + Frame.le(UInt32(0))
        func update(_ keys: [String]) -> [UInt8] {
            var payload = prefix + Frame.le(UInt32(keys.count))
            for key in keys { payload += Frame.str(key) + Frame.le((1.0).bitPattern) }
            return Frame.message(type: 4, payload: payload + [0, 0, 0])
        }
        #expect(decodeError(update(["a", "b"])) == nil)
        #expect(decodeError(update(["b", "a"]))?.code == .malformed)
        #expect(decodeError(update(["a", "a"]))?.code == .malformed)
        // Different bytes, same Swift String (NFD then NFC "é"): a duplicate key.
        let duplicate = decodeError(update(["e\u{301}", "\u{e9}"]))
        #expect(duplicate?.code == .malformed)
        #expect(duplicate?.message.contains("twice") == true)
    }

    @Test func errorDescriptionNamesCodeAndMessage() {
        let error = WireError(.checksumMismatch, "boom")
        #expect(error.description == "checksum mismatch: boom")
        #expect(WireError.Code.nonFinite.description == "non-finite value")
        #expect(WireError.Code.truncated != WireError.Code.oversized)
    }
}
