import FedArenaCore
import FedArenaWire

/// A client process's side of update compression (`transport.compression`): it encodes each
/// logical client's delta just before the UPDATE is sent and, with error feedback
/// (`transport.error_feedback`), keeps what the encoding lost for that client's next update.
///
/// Error feedback (Seide et al. 2014, "1-Bit Stochastic Gradient Descent and its Application
/// to Data-Parallel Distributed Training of Speech DNNs", Interspeech; Karimireddy et al. 2019,
/// "Error Feedback Fixes SignSGD and other Gradient Compression Schemes", ICML): client `i`
/// keeps a residual `e_i` (0 at first) and in each round it trains sends `C(Δ_i + e_i)`, then
/// sets `e_i ← Δ_i + e_i - D(C(Δ_i + e_i))`. What the coordinator received from a client over
/// its rounds therefore sums to what it computed, minus the last residual (the last encoding's
/// error, at most half an int8 step), instead of piling up bias round after round.
///
/// The residual belongs to the logical client, not to the process, and depends only on that
/// client's own updates, so results do not depend on the number of client processes. It costs
/// `d` float32 per hosted client that has trained at least once, and it lives in the process:
/// a restarted process starts its clients from a zero residual.
public struct UpdateCompressor: Sendable {
    /// The encoding.
    public let compression: UpdateCompression
    /// Whether residuals are kept.
    public let errorFeedback: Bool
    private var residuals: [ClientID: [Float]] = [:]

    /// Creates a compressor.
    /// - Parameters:
    ///   - compression: The wire encoding.
    ///   - errorFeedback: Whether to keep residuals (ignored for ``UpdateCompression/none``).
    public init(compression: UpdateCompression, errorFeedback: Bool) {
        self.compression = compression
        self.errorFeedback = errorFeedback && compression.isLossy
    }

    /// The compressor a scenario's `transport` section asks for.
    /// - Parameter transport: The scenario's transport section.
    public init(_ transport: TransportConfig) {
        self.init(compression: transport.compression, errorFeedback: transport.errorFeedback)
    }

    /// The residual kept for `client`, or `nil` before its first compressed update.
    public func residual(of client: ClientID) -> [Float]? { residuals[client] }

    /// Encodes `update`'s delta (plus the client's residual) and keeps the new residual.
    ///
    /// A delta with a NaN or an infinity is encoded as it is (the coordinator rejects it as it
    /// would reject it in float32) and leaves the residual untouched.
    /// - Parameter update: An UPDATE about to be sent.
    /// - Returns: The UPDATE with ``WireMessage/Update/compressedDelta`` set and its delta the
    ///   decoded values (unchanged for ``UpdateCompression/none``).
    public mutating func compress(_ update: WireMessage.Update) -> WireMessage.Update {
        guard compression.isLossy else { return update }
        var target = update.delta.values
        let carried = errorFeedback ? residuals[update.client] : nil
        if let carried, carried.count == target.count {
            for index in target.indices { target[index] += carried[index] }
        }
        let encoded: CompressedVector
        switch compression {
        case .none: return update
        case .float16: encoded = Float16Codec.encode(target)
        case .int8(let blockSize): encoded = Int8BlockCodec(blockSize: blockSize).encode(target)
        }
        var compressed = update
        compressed.compress(encoded)
        if errorFeedback, compressed.delta.isFinite, ParameterVector(target).isFinite {
            let sent = compressed.delta.values
            var residual = target
            for index in residual.indices { residual[index] -= sent[index] }
            residuals[update.client] = residual
        }
        return compressed
    }
}
