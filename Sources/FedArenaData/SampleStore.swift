import FedArenaCore

/// Labelled samples held compactly: pixels as the bytes they were stored in (one byte per value
/// instead of four), or float32 values for data that is not bytes (tabular data, float images).
///
/// A training set lives in memory in this form; ``samples(_:)`` makes the float32
/// ``LabeledSamples`` a model trains on for just the rows asked for (one client's shard), and the
/// caller drops it after training. A byte `b` becomes `Float(b) / 255` in single precision,
/// bit-identical to numpy's `x.astype(np.float32) / np.float32(255)` and to
/// ``IDXReader/readFloats(_:limit:dividedBy:)``, so training on a store gives the same model
/// bits as training on the floats read directly.
public struct SampleStore: Sendable, Equatable {
    /// How the feature values are held.
    public enum Values: Sendable, Equatable {
        /// Pixels: value = `Float(byte) / 255`.
        case pixels([UInt8])
        /// Float32 values as they are.
        case floats([Float])
    }

    /// The feature values, `count * featureCount` of them, row-major.
    public private(set) var values: Values
    /// One class index per sample, in `0..<classCount`.
    public private(set) var labels: [Int32]
    /// Values per sample.
    public let featureCount: Int
    /// The number of classes.
    public let classCount: Int

    /// Creates a store.
    /// - Parameters:
    ///   - values: The feature values, row-major.
    ///   - labels: One label per sample.
    ///   - featureCount: Values per sample.
    ///   - classCount: The number of classes.
    /// - Precondition: the value count is `labels.count * featureCount` (the readers check their
    ///   files before building a store).
    public init(values: Values, labels: [Int32], featureCount: Int, classCount: Int) {
        let valueCount: Int
        switch values {
        case .pixels(let bytes): valueCount = bytes.count
        case .floats(let floats): valueCount = floats.count
        }
        precondition(valueCount == labels.count * featureCount, "sample store: values and labels disagree")
        self.values = values
        self.labels = labels
        self.featureCount = featureCount
        self.classCount = classCount
    }

    /// The number of samples.
    public var count: Int { labels.count }

    /// The bytes the feature values take in memory.
    public var featureBytes: Int {
        switch values {
        case .pixels(let bytes): bytes.count
        case .floats(let floats): 4 * floats.count
        }
    }

    /// Whether the values are held as bytes.
    public var holdsPixels: Bool {
        if case .pixels = values { return true }
        return false
    }

    /// All samples as float32.
    /// - Returns: The samples in order, features converted as the type documentation says.
    public func samples() -> LabeledSamples { samples(0..<count) }

    /// The samples at `rows`, in that order, as float32.
    /// - Parameter rows: Positions in this store, each in `0..<count`.
    /// - Returns: The samples, features converted as the type documentation says.
    public func samples(_ rows: some Collection<Int>) -> LabeledSamples {
        let width = featureCount
        let total = rows.count * width
        let features = [Float](unsafeUninitializedCapacity: total) { output, initialized in
            var offset = 0
            switch values {
            case .pixels(let bytes):
                bytes.withUnsafeBufferPointer { source in
                    for row in rows {
                        let start = row * width
                        for column in 0..<width { output[offset + column] = Float(source[start + column]) / 255 }
                        offset += width
                    }
                }
            case .floats(let floats):
                floats.withUnsafeBufferPointer { source in
                    for row in rows {
                        let start = row * width
                        for column in 0..<width { output[offset + column] = source[start + column] }
                        offset += width
                    }
                }
            }
            initialized = total
        }
        return LabeledSamples(features: features, labels: rows.map { labels[$0] }, featureCount: width, classCount: classCount)
    }

    /// The samples at `rows`, in that order, still compact.
    /// - Parameter rows: Positions in this store, each in `0..<count`.
    /// - Returns: A store of those samples.
    public func subset(_ rows: some Collection<Int>) -> SampleStore {
        let width = featureCount
        func gather<T>(_ source: [T]) -> [T] {
            var result = [T]()
            result.reserveCapacity(rows.count * width)
            source.withUnsafeBufferPointer { buffer in
                for row in rows { result.append(contentsOf: buffer[(row * width)..<((row + 1) * width)]) }
            }
            return result
        }
        let picked: Values
        switch values {
        case .pixels(let bytes): picked = .pixels(gather(bytes))
        case .floats(let floats): picked = .floats(gather(floats))
        }
        return SampleStore(values: picked, labels: rows.map { labels[$0] }, featureCount: width, classCount: classCount)
    }
}
