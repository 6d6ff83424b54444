/// How client processes encode the model delta of an UPDATE on the wire (`transport.compression`).
///
/// The coordinator decodes every encoding back to float32 before validation, detection and
/// aggregation, so every rule and detector sees ordinary ``ParameterVector`` values; only the
/// bytes on the wire and the values' precision change.
///
/// - ``none``: float32, 4 bytes per value (the default).
/// - ``float16``: IEEE 754 binary16, 2 bytes per value; relative error at most 2^-11 for
///   |x| in [2^-14, 65504], absolute error at most 2^-25 below, saturated at ±65504 above.
/// - ``int8(blockSize:)``: symmetric 8-bit quantisation with one float32 scale per block of
///   `blockSize` values (`s = max|x| / 127`, `q = round(x / s)`), about 1 + 4/B bytes per value;
///   error at most `s / 2` per value.
///
/// With ``TransportConfig/errorFeedback`` the client keeps what the encoding lost and adds it
/// to its next update (error feedback: Seide et al. 2014, "1-Bit Stochastic Gradient Descent and
/// its Application to Data-Parallel Distributed Training of Speech DNNs", Interspeech;
/// Karimireddy et al. 2019, "Error Feedback Fixes SignSGD and other Gradient Compression
/// Schemes", ICML).
public enum UpdateCompression: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    /// float32 on the wire.
    case none
    /// IEEE 754 half precision on the wire.
    case float16
    /// 8-bit codes with one float32 scale per block of `blockSize` values.
    case int8(blockSize: Int)

    /// The default int8 block: 256 values (one scale costs 4 bytes per 256, 1.6%).
    public static let defaultBlockSize = 256

    /// The YAML name: `none`, `float16` or `int8`.
    public var name: String {
        switch self {
        case .none: "none"
        case .float16: "float16"
        case .int8: "int8"
        }
    }

    /// Whether the encoding loses information (everything but ``none``).
    public var isLossy: Bool { self != .none }

    public var description: String {
        switch self {
        case .int8(let blockSize): "int8 (blocks of \(blockSize))"
        default: name
        }
    }
}
