/// One hidden layer of a ``ModelSpec/cnn(layers:)`` network, in the order the data flows.
///
/// A network reads one sample of shape `[channels, height, width]` (or `[features]`), runs the
/// listed layers and ends with a dense layer to the class count, which is added for it (as
/// ``ModelSpec/mlp(hidden:)`` lists only the hidden widths). A dense layer after an image-shaped
/// tensor flattens it implicitly; ``flatten`` only makes that explicit.
public enum LayerSpec: Sendable, Equatable, Codable, CustomStringConvertible {
    /// A 2-D convolution with a square `kernel x kernel` window, `channels` output channels, the
    /// given stride and zero padding on every side, and a bias per output channel.
    case conv(kernel: Int, channels: Int, stride: Int, padding: Int)
    /// Max pooling over square `size x size` windows moved by `stride` (no padding; a partial
    /// window at the border is dropped, as PyTorch's `max_pool2d` does by default).
    case maxPool(size: Int, stride: Int)
    /// `max(x, 0)` element by element.
    case relu
    /// A fully connected layer with `units` outputs and a bias.
    case dense(units: Int)
    /// Inverted dropout (Srivastava et al. 2014, "Dropout: a simple way to prevent neural
    /// networks from overfitting", JMLR 15): during training each value is zeroed with
    /// probability `rate` and the others are scaled by `1 / (1 - rate)`; at evaluation it is the
    /// identity.
    case dropout(rate: Double)
    /// Turns an image-shaped tensor into a vector (no arithmetic).
    case flatten

    /// The hidden layers of the small CNN in FLTrust's code (Cao et al., "FLTrust: Byzantine-robust
    /// federated learning via trust bootstrapping", NDSS 2021): 3x3 convolution to 30 channels,
    /// ReLU, 2x2 max-pool, 3x3 convolution to 50 channels, ReLU, 2x2 max-pool, dense 100, ReLU;
    /// the network then ends with a dense layer to the class count. On a 1x28x28 input with 10
    /// classes this has 139,960 parameters.
    public static let fltrustCNN: [LayerSpec] = [
        .conv(kernel: 3, channels: 30, stride: 1, padding: 0), .relu, .maxPool(size: 2, stride: 2),
        .conv(kernel: 3, channels: 50, stride: 1, padding: 0), .relu, .maxPool(size: 2, stride: 2),
        .flatten, .dense(units: 100), .relu,
    ]

    /// The name used in scenario files (`kind:`).
    public var kind: String {
        switch self {
        case .conv: "conv"
        case .maxPool: "maxpool"
        case .relu: "relu"
        case .dense: "dense"
        case .dropout: "dropout"
        case .flatten: "flatten"
        }
    }

    public var description: String {
        switch self {
        case .conv(let kernel, let channels, let stride, let padding):
            "conv\(kernel)x\(kernel)x\(channels)" + (stride == 1 ? "" : "/s\(stride)") + (padding == 0 ? "" : "/p\(padding)")
        case .maxPool(let size, let stride): "maxpool\(size)" + (stride == size ? "" : "/s\(stride)")
        case .relu: "relu"
        case .dense(let units): "dense\(units)"
        case .dropout(let rate): "dropout\(rate)"
        case .flatten: "flatten"
        }
    }

    /// The shape of one sample after this layer.
    /// - Parameter input: `[channels, height, width]` or `[features]`, all positive.
    /// - Returns: the output shape.
    /// - Throws: ``ConfigError`` `.invalidValue` with an empty key path (the caller knows where
    ///   the layer sits) when the layer cannot take `input` or one of its own values is impossible.
    public func outputShape(input: [Int]) throws(ConfigError) -> [Int] {
        switch self {
        case .conv(let kernel, let channels, let stride, let padding):
            guard kernel >= 1, channels >= 1, stride >= 1 else {
                throw Self.invalid("kernel, channels and stride must be at least 1, got \(kernel), \(channels), \(stride)")
            }
            guard padding >= 0, padding < kernel else {
                throw Self.invalid("padding must be in 0..<kernel (\(kernel)), got \(padding)")
            }
            let (height, width) = try Self.image(input, for: "a convolution")
            guard height + 2 * padding >= kernel, width + 2 * padding >= kernel else {
                throw Self.invalid(
                    "its \(kernel)x\(kernel) kernel does not fit the \(Self.describe(input)) input with padding \(padding)")
            }
            return [channels, (height + 2 * padding - kernel) / stride + 1, (width + 2 * padding - kernel) / stride + 1]
        case .maxPool(let size, let stride):
            guard size >= 1, stride >= 1 else { throw Self.invalid("size and stride must be at least 1, got \(size), \(stride)") }
            let (height, width) = try Self.image(input, for: "max pooling")
            guard height >= size, width >= size else {
                throw Self.invalid("its \(size)x\(size) window does not fit the \(Self.describe(input)) input")
            }
            return [input[0], (height - size) / stride + 1, (width - size) / stride + 1]
        case .dense(let units):
            guard units >= 1 else { throw Self.invalid("units must be at least 1, got \(units)") }
            return [units]
        case .dropout(let rate):
            guard rate >= 0, rate < 1 else { throw Self.invalid("rate must be in [0, 1), got \(rate)") }
            return input
        case .relu:
            return input
        case .flatten:
            return [input.reduce(1, *)]
        }
    }

    private static func invalid(_ message: String) -> ConfigError {
        ConfigError(.invalidValue, keyPath: "", message)
    }

    private static func image(_ shape: [Int], for what: String) throws(ConfigError) -> (Int, Int) {
        guard shape.count == 3 else {
            throw Self.invalid("\(what) needs an image input [channels, height, width], got \(describe(shape))")
        }
        return (shape[1], shape[2])
    }

    /// `1x28x28` or `[784]`.
    public static func describe(_ shape: [Int]) -> String {
        shape.count == 1 ? "[\(shape[0])]" : shape.map(String.init).joined(separator: "x")
    }
}
