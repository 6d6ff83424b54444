import Crypto
import FedArenaCore

/// The hashes of the training audit's commitment: what a client commits to for each local
/// step and what the coordinator recomputes. Every value is hashed as its little-endian bytes.
///
/// - batch: `SHA-256("FA-batch" ‖ u64 rows ‖ u64 featureCount ‖ float32 features ‖ i32 labels)`;
/// - weights: `SHA-256("FA-weights" ‖ u64 count ‖ float32 values)`;
/// - leaf of step `s`: `SHA-256(0x00 ‖ u64 s ‖ batch hash ‖ weights hash ‖ u32 norm bits)`;
/// - norm: `‖after − before‖₂`, accumulated in float64 over float32 differences, rounded to float32.
public enum StepHashing {
    /// The batch hash.
    /// - Parameters:
    ///   - inputs: `rows x featureCount` values.
    ///   - labels: `rows` labels.
    ///   - featureCount: values per row.
    /// - Returns: 32 bytes.
    public static func batchHash(inputs: UnsafeBufferPointer<Float>, labels: UnsafeBufferPointer<Int32>, featureCount: Int) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: Array("FA-batch".utf8))
        update(&hasher, UInt64(labels.count))
        update(&hasher, UInt64(featureCount))
        hasher.update(bufferPointer: UnsafeRawBufferPointer(inputs))
        hasher.update(bufferPointer: UnsafeRawBufferPointer(labels))
        return Array(hasher.finalize())
    }

    /// The batch hash of a sample set.
    /// - Parameter batch: the batch.
    /// - Returns: 32 bytes.
    public static func batchHash(_ batch: LabeledSamples) -> [UInt8] {
        batch.features.withUnsafeBufferPointer { x in
            batch.labels.withUnsafeBufferPointer { y in batchHash(inputs: x, labels: y, featureCount: batch.featureCount) }
        }
    }

    /// The weights hash.
    /// - Parameter weights: the parameters.
    /// - Returns: 32 bytes.
    public static func weightsHash(_ weights: UnsafeBufferPointer<Float>) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: Array("FA-weights".utf8))
        update(&hasher, UInt64(weights.count))
        hasher.update(bufferPointer: UnsafeRawBufferPointer(weights))
        return Array(hasher.finalize())
    }

    /// The weights hash of an array.
    /// - Parameter weights: the parameters.
    /// - Returns: 32 bytes.
    public static func weightsHash(_ weights: [Float]) -> [UInt8] {
        weights.withUnsafeBufferPointer { weightsHash($0) }
    }

    /// The leaf hash of step `step`.
    /// - Parameters:
    ///   - step: the 1-based step.
    ///   - leaf: its batch hash, weights hash and norm.
    /// - Returns: 32 bytes.
    public static func leafHash(step: Int, leaf: StepLeaf) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: [UInt8(0)])
        update(&hasher, UInt64(step))
        hasher.update(data: leaf.batchHash)
        hasher.update(data: leaf.weightsHash)
        withUnsafeBytes(of: leaf.norm.bitPattern.littleEndian) { hasher.update(bufferPointer: $0) }
        return Array(hasher.finalize())
    }

    /// `‖after − before‖₂` as the commitment states it.
    /// - Parameters:
    ///   - before: the weights before the step.
    ///   - after: the weights after it.
    /// - Returns: the norm, float32.
    public static func norm(before: UnsafeBufferPointer<Float>, after: UnsafeBufferPointer<Float>) -> Float {
        precondition(before.count == after.count, "both weight vectors have the model's dimension")
        var sum = 0.0
        for index in 0..<before.count {
            let difference = Double(after[index] - before[index])
            sum += difference * difference
        }
        return Float(sum.squareRoot())
    }

    private static func update(_ hasher: inout SHA256, _ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { hasher.update(bufferPointer: $0) }
    }
}
