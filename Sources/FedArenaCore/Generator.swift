/// A generative model a malicious client fits to the data it holds, to make synthetic samples.
///
/// ## Implementation requirements
/// - Deterministic given the generator it receives: the same samples, seed and calls give the
///   same output bit for bit.
/// - ``fit(_:using:)`` throws ``GeneratorError`` for data it cannot fit (too few samples of a
///   class for the requested components, ...), naming the class and the numbers.
/// - ``sample(count:label:temperature:using:)`` returns features in [0, 1] (clipped) with
///   the given label, or labels drawn from the fitted class frequencies when `label` is `nil`.
public protocol Generator: Sendable {
    /// The YAML name (`gaussian-pca`, `gmm`, `vae`, ...).
    var name: String { get }
    /// Fits the model to `samples`.
    mutating func fit(_ samples: LabeledSamples, using rng: inout some RandomNumberGenerator) throws(GeneratorError)
    /// Draws `count` samples.
    /// - Parameters:
    ///   - count: how many.
    ///   - label: the class to draw, or `nil` for the fitted class mix.
    ///   - temperature: scales the sampling noise (1 = the fitted spread; < 1 sharper).
    ///   - rng: the source of randomness.
    func sample(count: Int, label: Int?, temperature: Double, using rng: inout some RandomNumberGenerator) throws(GeneratorError) -> LabeledSamples
}

/// The error a ``Generator`` throws.
public struct GeneratorError: Error, Sendable, CustomStringConvertible {
    /// What is wrong.
    public var message: String

    /// Creates an error.
    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
