import FedArenaCore
import FedArenaDefenses
import Foundation

/// The coordinator's state after a completed round, enough to continue the run to the same
/// final model (`fedarena run --resume RUN_DIR`): the global model, the round pipeline's
/// memory (aggregator and detector memory, fusion calibration, the previous aggregate), the
/// detection accumulator, the run's counters and the ledger's head.
///
/// Every random stream of a run derives from the scenario seed and the round number
/// (``RoundPlan``), so no generator state needs saving: round `r + 1` after a resume draws
/// exactly what it would have drawn. Floating-point values are stored bit-exactly (vectors as
/// base64 of their little-endian bytes, numbers as their IEEE bit patterns).
///
/// Written after every round as `checkpoint.json`, atomically: a temporary file, `fsync`, then
/// `rename`, so a crash leaves either the previous checkpoint or the new one.
public struct Checkpoint: Sendable, Equatable {
    /// The format version.
    public static let version = 1

    /// The last completed round.
    public var round: Int
    /// The global model after that round.
    public var model: ParameterVector
    /// The round pipeline's memory.
    public var pipeline: PipelineState
    /// The detection rates accumulated so far.
    public var detectionMetrics: DetectionMetrics
    /// Expected updates that never arrived, so far.
    public var dropouts: Int
    /// Clients that missed a round, so far.
    public var droppedClients: [ClientID]
    /// Refused messages, so far.
    public var rejectedMessages: Int
    /// The hash of the last ledger line.
    public var ledgerHead: String
    /// Wall seconds of the run before this checkpoint (summed over resumed sessions).
    public var wallSeconds: Double
    /// SHA-256 of the resolved scenario the run was started with (a resume with another
    /// scenario is refused).
    public var scenarioSHA256: String

    /// Creates a checkpoint.
    public init(
        round: Int, model: ParameterVector, pipeline: PipelineState, detectionMetrics: DetectionMetrics, dropouts: Int,
        droppedClients: [ClientID], rejectedMessages: Int, ledgerHead: String, wallSeconds: Double, scenarioSHA256: String
    ) {
        self.round = round
        self.model = model
        self.pipeline = pipeline
        self.detectionMetrics = detectionMetrics
        self.dropouts = dropouts
        self.droppedClients = droppedClients
        self.rejectedMessages = rejectedMessages
        self.ledgerHead = ledgerHead
        self.wallSeconds = wallSeconds
        self.scenarioSHA256 = scenarioSHA256
    }

    /// Writes the checkpoint to `path` atomically (temporary file, fsync, rename).
    /// - Throws: ``RuntimeError`` `.output` naming the file.
    public func write(to path: String) throws(RuntimeError) {
        let data: Data
        do {
            data = try Self.encoder.encode(Stored(self))
        } catch {
            throw RuntimeError(.output, "cannot encode the checkpoint of round \(round): \(error)")
        }
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: nil), let handle = FileHandle(forWritingAtPath: temporary) else {
            throw RuntimeError(.output, "cannot create \(temporary)")
        }
        do {
            try handle.write(contentsOf: data)
            try handle.synchronize()
            try handle.close()
        } catch {
            throw RuntimeError(.output, "cannot write \(temporary): \(error)")
        }
        guard rename(temporary, path) == 0 else {
            throw RuntimeError(.output, "cannot rename \(temporary) to \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Reads a checkpoint.
    /// - Throws: ``RuntimeError`` `.output` naming the file and what is wrong with it.
    public static func read(from path: String) throws(RuntimeError) -> Checkpoint {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RuntimeError(.output, "cannot read \(path): no checkpoint (the run has not completed a round, or this is not a run folder)")
        }
        do {
            let stored = try JSONDecoder().decode(Stored.self, from: data)
            guard stored.version == version else {
                throw RuntimeError(.output, "\(path) is checkpoint format \(stored.version); this fedarena reads format \(version)")
            }
            return try stored.checkpoint()
        } catch let error as RuntimeError {
            throw error
        } catch {
            throw RuntimeError(.output, "\(path) is not a valid checkpoint: \(error)")
        }
    }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }

    /// The file form: floating-point values by their bits.
    private struct Stored: Codable {
        var version: Int
        var round: Int
        var model: String
        var aggregatorMemory: Memory
        var detectionMemory: Memory
        var previousAggregate: String?
        var detectionMetrics: String
        var dropouts: Int
        var droppedClients: [Int]
        var rejectedMessages: Int
        var ledgerHead: String
        var wallSecondsBits: UInt64
        var scenarioSHA256: String

        struct Memory: Codable {
            var vectors: [String: String]
            var scalars: [String: UInt64]

            init(_ memory: AggregatorMemory) {
                vectors = memory.vectors.mapValues(Stored.encode)
                scalars = memory.scalars.mapValues(\.bitPattern)
            }

            func memory() throws(RuntimeError) -> AggregatorMemory {
                var result = AggregatorMemory(scalars: scalars.mapValues(Double.init(bitPattern:)))
                for (key, value) in vectors { result.vectors[key] = try Stored.decode(value, what: "memory vector \(key)") }
                return result
            }
        }

        init(_ checkpoint: Checkpoint) throws {
            version = Checkpoint.version
            round = checkpoint.round
            model = Self.encode(checkpoint.model)
            aggregatorMemory = Memory(checkpoint.pipeline.aggregatorMemory)
            detectionMemory = Memory(checkpoint.pipeline.detectionMemory)
            previousAggregate = checkpoint.pipeline.previousAggregate.map(Self.encode)
            // The accumulator's doubles (scores may be NaN) go through a bit-exact JSON form.
            let encoder = JSONEncoder()
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            detectionMetrics = String(decoding: try encoder.encode(checkpoint.detectionMetrics), as: UTF8.self)
            dropouts = checkpoint.dropouts
            droppedClients = checkpoint.droppedClients.map(\.rawValue)
            rejectedMessages = checkpoint.rejectedMessages
            ledgerHead = checkpoint.ledgerHead
            wallSecondsBits = checkpoint.wallSeconds.bitPattern
            scenarioSHA256 = checkpoint.scenarioSHA256
        }

        func checkpoint() throws -> Checkpoint {
            var pipeline = PipelineState()
            pipeline.aggregatorMemory = try aggregatorMemory.memory()
            pipeline.detectionMemory = try detectionMemory.memory()
            pipeline.previousAggregate = try previousAggregate.map { text throws(RuntimeError) in try Self.decode(text, what: "previous aggregate") }
            let decoder = JSONDecoder()
            decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            let metrics = try decoder.decode(DetectionMetrics.self, from: Data(detectionMetrics.utf8))
            return Checkpoint(
                round: round, model: try Self.decode(model, what: "model"), pipeline: pipeline, detectionMetrics: metrics,
                dropouts: dropouts, droppedClients: droppedClients.map(ClientID.init), rejectedMessages: rejectedMessages,
                ledgerHead: ledgerHead, wallSeconds: Double(bitPattern: wallSecondsBits), scenarioSHA256: scenarioSHA256)
        }

        static func encode(_ vector: ParameterVector) -> String {
            Data(vector.littleEndianBytes).base64EncodedString()
        }

        static func decode(_ text: String, what: String) throws(RuntimeError) -> ParameterVector {
            guard let data = Data(base64Encoded: text), data.count % 4 == 0 else {
                throw RuntimeError(.output, "the checkpoint's \(what) is not base64 of float32 values")
            }
            let values = data.withUnsafeBytes { raw in
                (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
            }
            return ParameterVector(values)
        }
    }
}
