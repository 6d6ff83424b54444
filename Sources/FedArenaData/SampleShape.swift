/// Checks shared by the dataset readers: a sample shape, how a file's items map onto it, and labels.
enum SampleShape {
    /// Checks a declared sample shape: 1 to 3 dimensions (`[features]`, `[height, width]`,
    /// `[channels, height, width]`), each at least 1.
    /// - Throws: ``DataError/Code/invalidArgument`` (`dataset.shape`).
    static func check(_ shape: [Int]) throws(DataError) {
        guard (1...3).contains(shape.count), shape.allSatisfy({ $0 >= 1 }) else {
            throw DataError.invalidArgument(
                "dataset.shape",
                "expected [features], [height, width] or [channels, height, width] with every dimension at least 1, got \(shape)")
        }
        let (_, overflow) = shape.reduce((1, false)) { partial, dimension in
            let (product, overflow) = partial.0.multipliedReportingOverflow(by: dimension)
            return (product, partial.1 || overflow)
        }
        guard !overflow else { throw DataError.invalidArgument("dataset.shape", "\(shape) overflows") }
    }

    /// Whether samples of `shape` are images (their values must lie in [0, 1]).
    static func isImage(_ shape: [Int]) -> Bool { shape.count >= 2 }

    /// The sample shape of a file whose items have dimensions `item`, given the declared shape.
    ///
    /// Without a declaration: `[F]` stays `[F]` (tabular), `[H, W]` becomes `[1, H, W]`, `[C, H, W]`
    /// stays. With one, the items must have exactly the declared dimensions, or the declared
    /// `[1, H, W]` without its channel, or be flat with the same number of values; a declared
    /// flat shape `[F]` reads any items of `F` values as tabular (row-major).
    /// - Parameters:
    ///   - declared: The scenario's `shape`, or `nil`.
    ///   - item: The file's dimensions after the first (sample) one.
    ///   - path: The file, for errors.
    /// - Returns: The sample shape.
    /// - Throws: ``DataError/Code/malformedFile`` when the items do not fit, naming both shapes
    ///   (and suggesting channels-first storage when the file looks channels-last).
    static func resolve(declared: [Int]?, item: [Int], path: String) throws(DataError) -> [Int] {
        guard !item.isEmpty else {
            throw DataError(.malformedFile, "holds one value per sample; expected [count, ...sample shape] (e.g. (n, 784) or (n, 1, 28, 28))", path: path)
        }
        guard let declared else {
            switch item.count {
            case 1, 3: return item
            case 2: return [1] + item
            default:
                throw DataError(
                    .malformedFile, "samples of shape \(item) have \(item.count) dimensions; expected [features], [height, width] or [channels, height, width]",
                    path: path)
            }
        }
        let product = declared.reduce(1, *)
        if item == declared || (declared.count == 3 && declared[0] == 1 && item == Array(declared[1...]))
            || (item.count == 1 && item[0] == product) || (declared.count == 1 && item.reduce(1, *) == product)
        {
            return declared
        }
        var message = "samples of shape \(item) do not match dataset.shape \(declared)"
        if declared.count == 3, item == [declared[1], declared[2], declared[0]] {
            message += "; the file looks channels-last: store (n, \(declared[0]), \(declared[1]), \(declared[2])) (numpy: x.transpose(0, 3, 1, 2)) or flat (n, \(product))"
        } else {
            message += "; store them as (n, \(declared.map(String.init).joined(separator: ", "))) or flat (n, \(product))"
        }
        throw DataError(.malformedFile, message, path: path)
    }

    /// Checks every label is in `0..<classCount`.
    /// - Returns: `labels`.
    /// - Throws: ``DataError/Code/malformedFile`` naming the file, the first bad label and its sample.
    static func checkedLabels(_ labels: [Int32], classCount: Int, path: String) throws(DataError) -> [Int32] {
        for (index, label) in labels.enumerated() where label < 0 || Int(label) >= classCount {
            throw DataError(.malformedFile, "label \(label) at sample \(index) is not a class 0..<\(classCount)", path: path)
        }
        return labels
    }

    /// Checks a feature value: finite, and in [0, 1] for images.
    /// - Throws: ``DataError/Code/malformedFile`` naming the sample and the value's position.
    static func checkValue(_ value: Float, image: Bool, sample: Int, position: Int, path: String, where place: String? = nil) throws(DataError) {
        let at = place ?? "sample \(sample), value \(position)"
        guard value.isFinite else {
            throw DataError(.malformedFile, "\(at) is \(value); features must be finite numbers", path: path)
        }
        guard !image || (value >= 0 && value <= 1) else {
            throw DataError(
                .malformedFile,
                "\(at) is \(value), outside [0, 1]: image features must be float values in [0, 1] or uint8 pixels (0-255, read as value / 255)",
                path: path)
        }
    }
}
