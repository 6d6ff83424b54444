import FedArenaCore

/// Encodes and decodes ``WireMessage`` values in the FedArena wire format, version 3.
///
/// ## Byte layout
/// Every integer is little-endian; every float is its IEEE 754 bit pattern, little-endian.
///
/// Header, 16 bytes:
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 4 | magic `46 41 52 57` (ASCII `FARW`) |
/// | 4 | 2 | protocol version, u16 (this codec writes and reads `3`) |
/// | 6 | 1 | message type, u8 (``WireMessage/Kind``: 1 HELLO ... 8 OPENING) |
/// | 7 | 1 | flags, u8: bit 0 (UPDATE only) = the delta is a compressed `cvec`; other bits reserved, 0 |
/// | 8 | 4 | payload length `L`, u32 |
/// | 12 | 4 | CRC-32 (IEEE) of header bytes 0..<12 followed by the `L` payload bytes |
///
/// The checksum also covers the first 12 header bytes, so a flipped type or flag byte cannot
/// turn one valid message into another. The message is exactly `16 + L` bytes: no trailing bytes.
///
/// Payload primitives: `i64` (a Swift `Int`, two's complement), `u64`, `u16`, `f64`;
/// `str` = u32 byte count + UTF-8 bytes (validated); `bytes` = u32 count + raw bytes;
/// `ids` = u32 count + that many `i64` client indices; `vec` = u32 count `d` + `d` float32 values;
/// `cvec` = a compressed vector (``CompressedVector``: u8 encoding 1 float16 / 2 int8, u32 `d`,
/// then `d` halves, or u32 block size `B`, `⌈d/B⌉` float32 scales and `d` int8 codes).
///
/// | type | payload |
/// |---|---|
/// | 1 HELLO | `i64` processIndex, `ids` clients, `str` label |
/// | 2 WELCOME | `str` runID, `bytes` scenarioJSON, `i64` parameterCount |
/// | 3 TRAIN | `i64` round, `u64` roundSeed, `u64` nonce, `ids` clients, `vec` model |
/// | 4 UPDATE | `i64` round, `u64` nonce, `i64` client, `i64` sampleCount, `f64` trainLoss, `vec` delta (`cvec` when flag bit 0 is set), u32 metric count + that many (`str` key, `f64` value), keys in strictly ascending UTF-8 byte order, then the optional sketch, audit samples and commitment (each a u8 flag 0/1 and its fields) |
/// | 5 SHUTDOWN | `str` reason |
/// | 6 ERROR | `u16` code, `str` message |
/// | 7 CHALLENGE | `i64` round, `u64` nonce, `i64` client, `ids` steps (1-based, strictly ascending) |
/// | 8 OPENING | `i64` round, `u64` nonce, `i64` client, u32 count + that many step openings |
///
/// A commitment is `bytes` root (exactly 32) and `vec` step norms (finite, non-negative, at most
/// ``DecodeLimits/maxCommittedSteps``). A step opening is `i64` step (≥ 1), `vec` weights before
/// (the model's dimension), `i64` featureCount, `i64` classCount, `vec` labels, `vec` features
/// (labels x featureCount, finite; at most ``DecodeLimits/maxBatchRows`` rows), the leaf
/// (`bytes` batch hash, `bytes` weights hash, u32 norm bits), `hashes` proof, a u8 flag and the
/// previous leaf, `hashes` previous proof; `hashes` = u32 count (at most 64) + 32-byte hashes.
///
/// ## Validation
/// The decoder checks, in order: total size against ``DecodeLimits/maxMessageBytes``
/// (`.oversized`), magic (`.badMagic`), header length (`.truncated`), version
/// (`.unsupportedVersion`), type (`.unknownType`), flags (`.malformed`), declared payload
/// length (`.oversized` beyond the limit, `.truncated` beyond the buffer, `.malformed` for
/// trailing bytes), checksum (`.checksumMismatch`), then each field: every count is checked
/// against its limit (`.oversized`) and against the bytes that remain (`.truncated`) before
/// anything is allocated; vector dimensions against ``DecodeLimits/expectedParameterCount``
/// (`.dimensionMismatch`); floats (`.nonFinite`, naming the index; for a `cvec` a half with
/// all exponent bits set, or an int8 scale that is not finite or makes `127 s` overflow);
/// int8 codes of -128, block sizes outside 1...65536, negative indices or counts,
/// invalid UTF-8, unsorted or duplicate metric keys and leftover payload bytes (`.malformed`).
/// A message that decodes re-encodes to exactly the same bytes.
public enum WireCodec {
    /// The four magic bytes that start every message (`FARW`).
    public static let magic: [UInt8] = [0x46, 0x41, 0x52, 0x57]
    /// The protocol version this codec writes and reads.
    ///
    /// Version 2 added the round nonce to TRAIN and UPDATE; version 3 the training commitment
    /// of UPDATE and the CHALLENGE / OPENING messages of `training-audit`. An older peer is
    /// refused with `.unsupportedVersion`.
    public static let protocolVersion: UInt16 = 3
    /// The header size in bytes.
    public static let headerSize = 16
    /// The header flag of an UPDATE whose delta is a compressed `cvec` (bit 0).
    static let compressedDeltaFlag: UInt8 = 1

    /// Encodes a message.
    ///
    /// Encoding never fails for payloads under 4 GiB. It does not validate content: a message
    /// with a NaN, a negative count or index encodes, and the decoder then rejects it.
    /// - Parameter message: The message.
    /// - Returns: The header and payload bytes.
    public static func encode(_ message: WireMessage) -> [UInt8] {
        let payloadSize = message.payloadSize
        precondition(payloadSize <= Int(UInt32.max), "a wire payload must be under 4 GiB, got \(payloadSize) bytes")
        let total = headerSize + payloadSize
        return [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            var writer = ByteWriter(raw, offset: 0)
            for byte in magic { writer.write(byte) }
            writer.write(protocolVersion)
            writer.write(message.kind.rawValue)
            writer.write(message.flags)
            writer.write(UInt32(payloadSize))
            writer.write(UInt32(0))  // checksum, patched below
            message.writePayload(to: &writer)
            precondition(writer.offset == total, "payload size mismatch: wrote \(writer.offset), sized \(total)")
            let checksum = checksum(header: UnsafeRawBufferPointer(rebasing: raw[0..<12]),
                                    payload: UnsafeRawBufferPointer(rebasing: raw[headerSize..<total]))
            raw.storeBytes(of: checksum.littleEndian, toByteOffset: 12, as: UInt32.self)
            initialized = total
        }
    }

    /// Decodes and validates one message.
    /// - Parameters:
    ///   - bytes: Exactly one encoded message.
    ///   - limits: The bounds to enforce.
    /// - Returns: The message.
    /// - Throws: ``WireError`` for anything but exactly one valid message (see the type's
    ///   documentation for the order of checks).
    public static func decode(_ bytes: [UInt8], limits: DecodeLimits = DecodeLimits()) throws(WireError) -> WireMessage {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(WireError) -> WireMessage in try decode(raw, limits: limits) }
        }
        return try result.get()
    }

    /// Decodes and validates one message from raw memory (no copy of the input).
    /// - Parameters:
    ///   - bytes: Exactly one encoded message.
    ///   - limits: The bounds to enforce.
    /// - Returns: The message.
    /// - Throws: ``WireError`` for anything but exactly one valid message.
    public static func decode(_ bytes: UnsafeRawBufferPointer, limits: DecodeLimits = DecodeLimits()) throws(WireError) -> WireMessage {
        let count = bytes.count
        if count > limits.maxMessageBytes {
            throw WireError(.oversized, "message of \(count) bytes exceeds the limit of \(limits.maxMessageBytes)")
        }
        for index in 0..<min(count, magic.count) where bytes[index] != magic[index] {
            throw WireError(.badMagic, "byte \(index) is 0x\(String(bytes[index], radix: 16)), not the magic 'FARW'")
        }
        if count < headerSize {
            throw WireError(.truncated, "message of \(count) bytes is shorter than the \(headerSize)-byte header")
        }
        let version = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt16.self))
        if version != protocolVersion {
            throw WireError(.unsupportedVersion, "protocol version \(version), this decoder reads \(protocolVersion)")
        }
        let typeByte = bytes[6]
        guard let kind = WireMessage.Kind(rawValue: typeByte) else {
            throw WireError(.unknownType, "message type \(typeByte) is not one of 1...6")
        }
        let flags = bytes[7]
        if flags != 0, !(kind == .update && flags == compressedDeltaFlag) {
            throw WireError(
                .malformed,
                "\(kind) has flags 0x\(String(flags, radix: 16)); version \(protocolVersion) allows only bit 0 on UPDATE (a compressed delta)")
        }
        let payloadLength = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
        if payloadLength > limits.maxMessageBytes - headerSize {
            throw WireError(.oversized, "\(kind) declares a payload of \(payloadLength) bytes; the limit is \(limits.maxMessageBytes) bytes per message")
        }
        if count < headerSize + payloadLength {
            throw WireError(.truncated, "\(kind) declares a \(payloadLength)-byte payload but only \(count - headerSize) bytes follow the header")
        }
        if count > headerSize + payloadLength {
            throw WireError(.malformed, "\(count - headerSize - payloadLength) trailing bytes after the \(kind) payload")
        }
        let expected = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        let payload = UnsafeRawBufferPointer(rebasing: bytes[headerSize..<count])
        let actual = checksum(header: UnsafeRawBufferPointer(rebasing: bytes[0..<12]), payload: payload)
        if actual != expected {
            throw WireError(.checksumMismatch, "\(kind) CRC-32 is 0x\(String(actual, radix: 16)), header says 0x\(String(expected, radix: 16))")
        }
        var reader = ByteReader(payload, kind: kind, limits: limits)
        let message = try WireMessage.readPayload(kind: kind, compressed: flags == compressedDeltaFlag, from: &reader)
        try reader.expectEnd()
        return message
    }

    /// The checksum of a message: the first 12 header bytes, then the payload.
    static func checksum(header: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer) -> UInt32 {
        var crc = CRC32()
        crc.update(header)
        crc.update(payload)
        return crc.value
    }
}

extension WireMessage {
    /// The header flags byte: bit 0 for an UPDATE with a compressed delta.
    fileprivate var flags: UInt8 {
        if case .update(let update) = self, update.compressedDelta != nil { return WireCodec.compressedDeltaFlag }
        return 0
    }

    /// The exact payload size in bytes.
    fileprivate var payloadSize: Int {
        switch self {
        case .hello(let hello):
            8 + ByteWriter.size(ofClients: hello.clients) + ByteWriter.size(of: hello.label)
        case .welcome(let welcome):
            ByteWriter.size(of: welcome.runID) + 4 + welcome.scenarioJSON.count + 8
        case .train(let train):
            8 + 8 + 8 + ByteWriter.size(ofClients: train.clients) + 4 + 4 * train.model.count
        case .update(let update):
            8 + 8 + 8 + 8 + 8 + (update.compressedDelta?.wireByteCount ?? (4 + 4 * update.delta.count)) + 4
                + update.metrics.keys.reduce(0) { $0 + ByteWriter.size(of: $1) + 8 }
                + 1 + (update.sketch.map { 8 + 4 + 4 * $0.labelHistogram.count + 4 + 4 * $0.classEmbeddings.count } ?? 0)
                + 1 + (update.auditSamples.map { 8 + 8 + 4 + 4 * $0.count + 4 + 4 * $0.features.count } ?? 0)
                + 1 + (update.commitment.map { 4 + $0.root.count + 4 + 4 * $0.stepNorms.count } ?? 0)
        case .shutdown(let shutdown):
            ByteWriter.size(of: shutdown.reason)
        case .error(let report):
            2 + ByteWriter.size(of: report.message)
        case .challenge(let challenge):
            8 + 8 + 8 + 4 + 8 * challenge.steps.count
        case .opening(let opening):
            8 + 8 + 8 + 4 + opening.openings.reduce(0) { $0 + Self.size(of: $1) }
        }
    }

    fileprivate static func size(of leaf: StepLeaf) -> Int { 4 + leaf.batchHash.count + 4 + leaf.weightsHash.count + 4 }

    fileprivate static func size(ofHashes hashes: [[UInt8]]) -> Int { 4 + hashes.reduce(0) { $0 + $1.count } }

    fileprivate static func size(of opening: StepOpening) -> Int {
        8 + 4 + 4 * opening.weightsBefore.count + 8 + 8 + 4 + 4 * opening.batch.count + 4 + 4 * opening.batch.features.count
            + size(of: opening.leaf) + size(ofHashes: opening.proof) + 1 + (opening.previousLeaf.map { size(of: $0) } ?? 0)
            + size(ofHashes: opening.previousProof)
    }

    fileprivate static func write(_ leaf: StepLeaf, to writer: inout ByteWriter) {
        writer.write(bytes: leaf.batchHash)
        writer.write(bytes: leaf.weightsHash)
        writer.write(leaf.norm.bitPattern)
    }

    fileprivate static func write(hashes: [[UInt8]], to writer: inout ByteWriter) {
        writer.write(UInt32(hashes.count))
        for hash in hashes {
            hash.withUnsafeBytes { writer.write(raw: $0) }
        }
    }

    fileprivate func writePayload(to writer: inout ByteWriter) {
        switch self {
        case .hello(let hello):
            writer.write(Int64(hello.processIndex))
            writer.write(clients: hello.clients)
            writer.write(string: hello.label)
        case .welcome(let welcome):
            writer.write(string: welcome.runID)
            writer.write(bytes: welcome.scenarioJSON)
            writer.write(Int64(welcome.parameterCount))
        case .train(let train):
            writer.write(Int64(train.round))
            writer.write(train.roundSeed)
            writer.write(train.nonce)
            writer.write(clients: train.clients)
            writer.write(floats: train.model.values)
        case .update(let update):
            writer.write(Int64(update.round))
            writer.write(update.nonce)
            writer.write(Int64(update.client.rawValue))
            writer.write(Int64(update.sampleCount))
            writer.write(update.trainLoss.bitPattern)
            if let compressed = update.compressedDelta {
                writer.write(compressed: compressed)
            } else {
                writer.write(floats: update.delta.values)
            }
            let metrics = update.metrics.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            writer.write(UInt32(metrics.count))
            for (key, value) in metrics {
                writer.write(string: key)
                writer.write(value.bitPattern)
            }
            if let sketch = update.sketch {
                writer.write(UInt8(1))
                writer.write(Int64(sketch.dimension))
                writer.write(floats: sketch.labelHistogram.map { Float($0) })
                writer.write(floats: sketch.classEmbeddings)
            } else {
                writer.write(UInt8(0))
            }
            if let samples = update.auditSamples {
                writer.write(UInt8(1))
                writer.write(Int64(samples.featureCount))
                writer.write(Int64(samples.classCount))
                writer.write(floats: samples.labels.map { Float($0) })
                writer.write(floats: samples.features)
            } else {
                writer.write(UInt8(0))
            }
            if let commitment = update.commitment {
                writer.write(UInt8(1))
                writer.write(bytes: commitment.root)
                writer.write(floats: commitment.stepNorms)
            } else {
                writer.write(UInt8(0))
            }
        case .challenge(let challenge):
            writer.write(Int64(challenge.round))
            writer.write(challenge.nonce)
            writer.write(Int64(challenge.client.rawValue))
            writer.write(UInt32(challenge.steps.count))
            for step in challenge.steps { writer.write(Int64(step)) }
        case .opening(let opening):
            writer.write(Int64(opening.round))
            writer.write(opening.nonce)
            writer.write(Int64(opening.client.rawValue))
            writer.write(UInt32(opening.openings.count))
            for step in opening.openings {
                writer.write(Int64(step.step))
                writer.write(floats: step.weightsBefore.values)
                writer.write(Int64(step.batch.featureCount))
                writer.write(Int64(step.batch.classCount))
                writer.write(floats: step.batch.labels.map { Float($0) })
                writer.write(floats: step.batch.features)
                Self.write(step.leaf, to: &writer)
                Self.write(hashes: step.proof, to: &writer)
                if let previous = step.previousLeaf {
                    writer.write(UInt8(1))
                    Self.write(previous, to: &writer)
                } else {
                    writer.write(UInt8(0))
                }
                Self.write(hashes: step.previousProof, to: &writer)
            }
        case .shutdown(let shutdown):
            writer.write(string: shutdown.reason)
        case .error(let report):
            writer.write(report.code)
            writer.write(string: report.message)
        }
    }

    /// An UPDATE's optional sketch: a u8 flag (0 none, 1 present), then i64 dimension D,
    /// `vec` label histogram (whole non-negative counts as float32), `vec` class embeddings
    /// (classes x D).
    fileprivate static func readSketch(from reader: inout ByteReader) throws(WireError) -> DataSketch? {
        switch try reader.u8("sketch") {
        case 0: return nil
        case 1: break
        case let flag: throw WireError(.malformed, "UPDATE.sketch flag is \(flag); it must be 0 or 1")
        }
        let dimension = try reader.index("sketch.dimension")
        guard (1...65_536).contains(dimension) else {
            throw WireError(.malformed, "UPDATE.sketch.dimension is \(dimension); it must be in 1...65536")
        }
        let histogram = try reader.floats("sketch.labelHistogram", parameters: false)
        guard histogram.count <= 4_096, histogram.allSatisfy({ $0 >= 0 && $0 == $0.rounded() && $0 < 16_777_216 }) else {
            throw WireError(.malformed, "UPDATE.sketch.labelHistogram must hold at most 4096 whole non-negative counts")
        }
        let embeddings = try reader.floats("sketch.classEmbeddings", parameters: false)
        guard embeddings.count == dimension * histogram.count else {
            throw WireError(
                .malformed, "UPDATE.sketch.classEmbeddings has \(embeddings.count) values, expected \(histogram.count) classes x \(dimension)")
        }
        return DataSketch(classEmbeddings: embeddings, dimension: dimension, labelHistogram: histogram.map { Int($0) })
    }

    /// An UPDATE's optional audit samples: a u8 flag, then i64 feature count F, i64 class count
    /// C, `vec` labels (whole numbers in 0..<C as float32), `vec` features (labels x F, in [0, 1]).
    fileprivate static func readAuditSamples(from reader: inout ByteReader) throws(WireError) -> LabeledSamples? {
        switch try reader.u8("auditSamples") {
        case 0: return nil
        case 1: break
        case let flag: throw WireError(.malformed, "UPDATE.auditSamples flag is \(flag); it must be 0 or 1")
        }
        let featureCount = try reader.index("auditSamples.featureCount")
        let classCount = try reader.index("auditSamples.classCount")
        guard (1...1_000_000).contains(featureCount), (1...4_096).contains(classCount) else {
            throw WireError(.malformed, "UPDATE.auditSamples has \(featureCount) features and \(classCount) classes")
        }
        let labels = try reader.floats("auditSamples.labels", parameters: false)
        guard labels.count <= 100_000, labels.allSatisfy({ $0 >= 0 && $0 < Float(classCount) && $0 == $0.rounded() }) else {
            throw WireError(.malformed, "UPDATE.auditSamples.labels must be at most 100000 whole class indices below \(classCount)")
        }
        let features = try reader.floats("auditSamples.features", parameters: false)
        guard features.count == labels.count * featureCount else {
            throw WireError(.malformed, "UPDATE.auditSamples.features has \(features.count) values, expected \(labels.count) x \(featureCount)")
        }
        guard features.allSatisfy({ $0 >= 0 && $0 <= 1 }) else {
            throw WireError(.malformed, "UPDATE.auditSamples.features must lie in [0, 1]")
        }
        return LabeledSamples(features: features, labels: labels.map { Int32($0) }, featureCount: featureCount, classCount: classCount)
    }

    fileprivate static func readPayload(kind: Kind, compressed: Bool, from reader: inout ByteReader) throws(WireError) -> WireMessage {
        switch kind {
        case .hello:
            let processIndex = try reader.index("processIndex")
            let clients = try reader.clients("clients")
            let label = try reader.string("label")
            return .hello(Hello(processIndex: processIndex, clients: clients, label: label))
        case .welcome:
            let runID = try reader.string("runID")
            let json = try reader.bytes("scenarioJSON")
            let parameterCount = try reader.index("parameterCount")
            return .welcome(Welcome(runID: runID, scenarioJSON: json, parameterCount: parameterCount))
        case .train:
            let round = try reader.index("round")
            let seed = try reader.u64("roundSeed")
            let nonce = try reader.u64("nonce")
            let clients = try reader.clients("clients")
            let model = try reader.floats("model")
            return .train(Train(round: round, roundSeed: seed, nonce: nonce, clients: clients, model: ParameterVector(model)))
        case .update:
            let round = try reader.index("round")
            let nonce = try reader.u64("nonce")
            let client = try reader.index("client")
            let sampleCount = try reader.index("sampleCount")
            // The training loss is a self-reported diagnostic, never merged: NaN ("not
            // measured", e.g. a client without samples) and infinities pass, and the
            // coordinator counts them (`non_finite_train_losses`) instead of dropping a finite delta.
            let trainLoss = Double(bitPattern: try reader.u64("trainLoss"))
            let packed: CompressedVector?
            let delta: [Float]
            if compressed {
                let vector = try reader.compressedVector("delta")
                packed = vector
                delta = vector.decoded()
            } else {
                packed = nil
                delta = try reader.floats("delta")
            }
            let metrics = try reader.metrics("metrics")
            let sketch = try readSketch(from: &reader)
            var update = Update(
                round: round, nonce: nonce, client: ClientID(client), sampleCount: sampleCount, trainLoss: trainLoss,
                delta: ParameterVector(delta), metrics: metrics, sketch: sketch)
            update.compressedDelta = packed
            update.auditSamples = try readAuditSamples(from: &reader)
            update.commitment = try readCommitment(from: &reader)
            return .update(update)
        case .shutdown:
            return .shutdown(Shutdown(reason: try reader.string("reason")))
        case .error:
            let code = try reader.u16("code")
            let message = try reader.string("message")
            return .error(ErrorReport(code: code, message: message))
        case .challenge:
            let round = try reader.index("round")
            let nonce = try reader.u64("nonce")
            let client = try reader.index("client")
            let steps = try reader.steps("steps")
            guard !steps.isEmpty else { throw WireError(.malformed, "CHALLENGE.steps is empty") }
            return .challenge(Challenge(round: round, nonce: nonce, client: ClientID(client), steps: steps))
        case .opening:
            let round = try reader.index("round")
            let nonce = try reader.u64("nonce")
            let client = try reader.index("client")
            let count = try reader.openingCount("openings")
            var openings = [StepOpening]()
            var previousStep = 0
            for position in 0..<count {
                let opening = try readStepOpening(from: &reader, field: "openings[\(position)]")
                guard opening.step > previousStep else {
                    throw WireError(.malformed, "OPENING.openings[\(position)].step is \(opening.step); steps must be strictly ascending")
                }
                previousStep = opening.step
                openings.append(opening)
            }
            return .opening(Opening(round: round, nonce: nonce, client: ClientID(client), openings: openings))
        }
    }

    /// An UPDATE's optional commitment: a u8 flag, then `bytes` root (32) and `vec` norms.
    fileprivate static func readCommitment(from reader: inout ByteReader) throws(WireError) -> TrainingCommitment? {
        switch try reader.u8("commitment") {
        case 0: return nil
        case 1: break
        case let flag: throw WireError(.malformed, "UPDATE.commitment flag is \(flag); it must be 0 or 1")
        }
        let root = try reader.hash("commitment.root")
        let norms = try reader.floats("commitment.stepNorms", parameters: false, limit: reader.limits.maxCommittedSteps)
        guard !norms.isEmpty, norms.allSatisfy({ $0 >= 0 }) else {
            throw WireError(.malformed, "UPDATE.commitment.stepNorms must list at least one non-negative norm")
        }
        return TrainingCommitment(root: root, stepNorms: norms)
    }

    fileprivate static func readLeaf(from reader: inout ByteReader, field: String) throws(WireError) -> StepLeaf {
        let batch = try reader.hash(field + ".batchHash")
        let weights = try reader.hash(field + ".weightsHash")
        let norm = Float(bitPattern: try reader.u32(field + ".norm"))
        guard norm.isFinite, norm >= 0 else { throw WireError(.nonFinite, "OPENING.\(field).norm is \(norm); it must be finite and non-negative") }
        return StepLeaf(batchHash: batch, weightsHash: weights, norm: norm)
    }

    fileprivate static func readStepOpening(from reader: inout ByteReader, field: String) throws(WireError) -> StepOpening {
        let step = try reader.index(field + ".step")
        guard step >= 1, step <= reader.limits.maxCommittedSteps else {
            throw WireError(.malformed, "OPENING.\(field).step is \(step); it must be in 1...\(reader.limits.maxCommittedSteps)")
        }
        let weights = try reader.floats(field + ".weightsBefore")
        let featureCount = try reader.index(field + ".featureCount")
        let classCount = try reader.index(field + ".classCount")
        guard (1...1_000_000).contains(featureCount), (1...4_096).contains(classCount) else {
            throw WireError(.malformed, "OPENING.\(field) has \(featureCount) features and \(classCount) classes")
        }
        let labels = try reader.floats(field + ".labels", parameters: false, limit: reader.limits.maxBatchRows)
        guard !labels.isEmpty, labels.allSatisfy({ $0 >= 0 && $0 < Float(classCount) && $0 == $0.rounded() }) else {
            throw WireError(.malformed, "OPENING.\(field).labels must be 1...\(reader.limits.maxBatchRows) whole class indices below \(classCount)")
        }
        let features = try reader.floats(field + ".features", parameters: false, limit: reader.limits.maxBatchRows * featureCount)
        guard features.count == labels.count * featureCount else {
            throw WireError(.malformed, "OPENING.\(field).features has \(features.count) values, expected \(labels.count) x \(featureCount)")
        }
        let leaf = try readLeaf(from: &reader, field: field + ".leaf")
        let proof = try reader.hashes(field + ".proof")
        let previous: StepLeaf?
        switch try reader.u8(field + ".previousLeaf") {
        case 0: previous = nil
        case 1: previous = try readLeaf(from: &reader, field: field + ".previousLeaf")
        case let flag: throw WireError(.malformed, "OPENING.\(field).previousLeaf flag is \(flag); it must be 0 or 1")
        }
        let previousProof = try reader.hashes(field + ".previousProof")
        return StepOpening(
            step: step, weightsBefore: ParameterVector(weights),
            batch: LabeledSamples(features: features, labels: labels.map { Int32($0) }, featureCount: featureCount, classCount: classCount),
            leaf: leaf, proof: proof, previousLeaf: previous, previousProof: previousProof)
    }
}
