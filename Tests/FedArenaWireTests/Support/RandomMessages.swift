import FedArenaCore
import FedArenaNumerics
import FedArenaWire

/// Random valid wire messages for property and fuzz tests, drawn from a seeded generator.
struct RandomMessages {
    var rng: SeededGenerator
    /// The largest vector dimension drawn (keep small in debug builds).
    var maxDimension: Int

    init(seed: UInt64, maxDimension: Int = 24) {
        rng = SeededGenerator(seed: seed)
        self.maxDimension = maxDimension
    }

    /// Characters that exercise 1- to 4-byte UTF-8, NUL, newlines and combining marks.
    private static let alphabet: [String] = [
        "a", "b", "z", "A", "0", "9", " ", "_", "-", ".", "\n", "\u{0}", "é", "e\u{301}", "ß", "€", "中", "𝄞", "😀",
    ]

    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + rng.uniform(below: range.upperBound - range.lowerBound + 1)
    }

    mutating func bool() -> Bool { rng.next() & 1 == 1 }

    mutating func string(maxCharacters: Int = 12) -> String {
        var string = ""
        for _ in 0..<int(0...maxCharacters) { string += Self.alphabet[rng.uniform(below: Self.alphabet.count)] }
        return string
    }

    /// A finite float32 drawn from all bit patterns (so zeros, subnormals and huge values appear).
    mutating func finiteFloat() -> Float {
        while true {
            let value = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))
            if value.isFinite { return value }
        }
    }

    mutating func finiteDouble() -> Double {
        while true {
            let value = bool() ? Double(bitPattern: rng.next()) : (rng.unitDouble() - 0.5) * 10
            if value.isFinite { return value }
        }
    }

    mutating func vector(dimension: Int? = nil) -> ParameterVector {
        let count = dimension ?? int(0...maxDimension)
        return ParameterVector((0..<count).map { _ in finiteFloat() })
    }

    mutating func nonNegative() -> Int {
        switch rng.uniform(below: 4) {
        case 0: 0
        case 1: int(0...100)
        case 2: Int(truncatingIfNeeded: rng.next() >> 1)
        default: Int.max
        }
    }

    mutating func clients() -> [ClientID] {
        (0..<int(0...8)).map { _ in ClientID(nonNegative()) }
    }

    mutating func message(dimension: Int? = nil) -> WireMessage {
        switch rng.uniform(below: 8) {
        case 0: return .hello(.init(processIndex: nonNegative(), clients: clients(), label: string()))
        case 1:
            let json = (0..<int(0...40)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            return .welcome(.init(runID: string(), scenarioJSON: json, parameterCount: nonNegative()))
        case 2:
            return .train(.init(
                round: nonNegative(), roundSeed: rng.next(), nonce: rng.next(), clients: clients(), model: vector(dimension: dimension)))
        case 3:
            var metrics: [String: Double] = [:]
            for _ in 0..<int(0...4) { metrics[string(maxCharacters: 6)] = finiteDouble() }
            var update = WireMessage.Update(
                round: nonNegative(), nonce: rng.next(), client: ClientID(nonNegative()), sampleCount: nonNegative(),
                trainLoss: finiteDouble(), delta: vector(dimension: dimension), metrics: metrics)
            if bool() { update.commitment = TrainingCommitment(root: bytes(count: 32), stepNorms: (0..<int(1...6)).map { _ in abs(finiteFloat()) }) }
            return .update(update)
        case 4: return .shutdown(.init(reason: string()))
        case 5:
            var step = 0
            let steps = (0..<int(1...5)).map { _ in step += int(1...9); return step }
            return .challenge(.init(round: nonNegative(), nonce: rng.next(), client: ClientID(nonNegative()), steps: steps))
        case 6:
            var step = 0
            let openings = (0..<int(0...3)).map { _ -> StepOpening in
                step += int(1...9)
                return stepOpening(step: step, dimension: dimension)
            }
            return .opening(.init(round: nonNegative(), nonce: rng.next(), client: ClientID(nonNegative()), openings: openings))
        default: return .error(.init(code: UInt16(truncatingIfNeeded: rng.next()), message: string()))
        }
    }

    mutating func leaf() -> StepLeaf {
        StepLeaf(batchHash: bytes(count: 32), weightsHash: bytes(count: 32), norm: abs(finiteFloat()))
    }

    /// A step opening with a random batch (features in [0, 1]) and proofs.
    mutating func stepOpening(step: Int, dimension: Int?) -> StepOpening {
        let features = int(1...5)
        let classes = int(1...4)
        let rows = int(1...3)
        let batch = LabeledSamples(
            features: (0..<(rows * features)).map { _ in Float(rng.unitDouble()) }, labels: (0..<rows).map { _ in Int32(rng.uniform(below: classes)) },
            featureCount: features, classCount: classes)
        return StepOpening(
            step: step, weightsBefore: vector(dimension: dimension), batch: batch, leaf: leaf(), proof: (0..<int(0...4)).map { _ in bytes(count: 32) },
            previousLeaf: step > 1 ? leaf() : nil, previousProof: step > 1 ? (0..<int(0...4)).map { _ in bytes(count: 32) } : [])
    }

    mutating func bytes(count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    }
}

/// Byte surgery on encoded messages.
enum Frame {
    /// The payload of an encoded message.
    static func payload(of message: [UInt8]) -> [UInt8] { Array(message[WireCodec.headerSize...]) }

    /// A message with `header`'s first 8 bytes and `payload`, with a correct length and CRC.
    static func reframe(_ header: [UInt8], payload: [UInt8]) -> [UInt8] {
        var bytes = Array(header[0..<8])
        bytes += le(UInt32(payload.count))
        var crc = CRC32()
        crc.update(bytes)
        crc.update(payload)
        bytes += le(crc.value)
        return bytes + payload
    }

    /// Recomputes the CRC after a header or payload edit (length left as is).
    static func fixChecksum(_ message: [UInt8]) -> [UInt8] {
        guard message.count >= WireCodec.headerSize else { return message }
        var bytes = message
        var crc = CRC32()
        crc.update(bytes[0..<12])
        crc.update(bytes[WireCodec.headerSize...])
        bytes.replaceSubrange(12..<16, with: le(crc.value))
        return bytes
    }

    static func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    /// A complete message of `type` around a hand-built payload.
    static func message(type: UInt8, payload: [UInt8]) -> [UInt8] {
        reframe(WireCodec.magic + le(WireCodec.protocolVersion) + [type, 0], payload: payload)
    }

    static func str(_ string: String) -> [UInt8] { le(UInt32(string.utf8.count)) + Array(string.utf8) }
}

/// Decodes and returns the error, or `nil` if decoding succeeded.
func decodeError(_ bytes: [UInt8], limits: DecodeLimits = DecodeLimits()) -> WireError? {
    do {
        _ = try WireCodec.decode(bytes, limits: limits)
        return nil
    } catch {
        return error
    }
}
