import FedArenaCore
import Foundation

/// A scenario's dataset as files to read from: Fashion-MNIST's IDX files, or your own data as
/// NPY arrays or CSV tables (`dataset.name: fashion-mnist | npy | csv`).
///
/// Reading is split so that each process reads only what it needs:
/// - ``describe(_:declaredShape:declaredClasses:environment:)`` checks the files once, before
///   any process starts (shape, dtype, lengths, NaNs, label range), and infers the shape and the
///   class count the scenario did not declare;
/// - ``trainLabels()`` reads only the labels, from which every process computes the same
///   partition (``FederatedSplit``);
/// - ``train(rows:)`` reads only the rows a process's clients (or the coordinator's root set)
///   hold, streaming the file in 1 MiB pieces, and keeps them compact (``SampleStore``:
///   uint8 pixels stay bytes);
/// - ``test()`` reads the test split (the coordinator's evaluation set).
///
/// NPY features are `[count, ...shape]` arrays of `uint8` (pixels, read as `byte / 255`) or
/// `float32` / `float64` (image values must lie in [0, 1]; tabular values need only be finite);
/// NPY labels are `[count]` (or `[count, 1]`) arrays of integers, or floats holding whole
/// numbers. CSV files hold one sample per line, comma-separated, one field the label:
/// - `header: true` (the default): the first non-blank line names the columns, and
///   `label_column` is a name (default `label`) or a 0-based index; `header: false`: every line is
///   a sample and `label_column` must be an index;
/// - every line has the same number of fields; features are decimal numbers (finite; in [0, 1]
///   for an image shape), the label a whole number (`3` or `3.0`); fields may be padded with
///   spaces; no quoting (header names may be double-quoted); blank lines are skipped; `\r\n`
///   line ends and `.csv.gz` files are read as well.
public struct DatasetSource: Sendable {
    /// The dataset section this source reads (shape and class count as validated).
    public let config: DatasetConfig
    private let format: Format

    private enum Format: Sendable {
        case fashionMNIST(folder: String)
        case npy(DatasetFiles)
        case csv(DatasetFiles)
    }

    /// The dataset names this type reads.
    public static let names = ["fashion-mnist", "npy", "csv"]

    /// Prepares to read `config`'s dataset.
    /// - Parameters:
    ///   - config: The dataset section (its `shape` and `classCount` are checked against the files as they are read).
    ///   - environment: The environment to read `FEDARENA_DATA` from (Fashion-MNIST).
    /// - Throws: ``DataError/Code/invalidArgument`` for an unknown name or an `npy` / `csv`
    ///   dataset without its files, ``DataError/Code/missingDataset`` when Fashion-MNIST is not found.
    public init(_ config: DatasetConfig, environment: [String: String] = ProcessInfo.processInfo.environment) throws(DataError) {
        self.config = config
        switch config.name {
        case "fashion-mnist":
            format = .fashionMNIST(folder: try FashionMNIST.locate(directory: config.directory, environment: environment))
        case "npy", "csv":
            guard let files = config.files else {
                throw DataError.invalidArgument("dataset", "a \(config.name) dataset needs its files (train, test\(config.name == "npy" ? ", train_labels, test_labels" : ""))")
            }
            if config.name == "npy" {
                guard files.trainLabels != nil, files.testLabels != nil else {
                    throw DataError.invalidArgument("dataset", "an npy dataset needs train_labels and test_labels files")
                }
                format = .npy(files)
            } else {
                format = .csv(files)
            }
        default:
            throw DataError.invalidArgument("dataset.name", "unknown dataset '\(config.name)'; known: \(Self.names.joined(separator: ", "))")
        }
    }

    // MARK: - Describing (once, before any process starts)

    /// Checks the dataset's files and tells what they hold.
    ///
    /// For `npy` and `csv` this reads every label and scans every float feature (NaNs, range),
    /// without holding the features; Fashion-MNIST is described from its known layout without
    /// reading (its files are checked when loaded).
    /// - Parameters:
    ///   - config: The dataset section (paths absolute or relative to the working directory).
    ///   - declaredShape: The scenario's `shape`, or `nil` to take the files' own.
    ///   - declaredClasses: The scenario's `classes`, or `nil` to infer the largest label + 1
    ///     over both splits.
    ///   - environment: The environment to read `FEDARENA_DATA` from.
    /// - Returns: The shape, the class count and the split sizes.
    /// - Throws: ``DataError`` naming the file and the reason: a missing or unreadable file, a
    ///   wrong shape or dtype, features and labels of different lengths, a NaN, an image value
    ///   outside [0, 1], a label that is negative, not whole, or not below `declaredClasses`,
    ///   fewer than two classes, a subset larger than the split.
    public static func describe(
        _ config: DatasetConfig, declaredShape: [Int]?, declaredClasses: Int?,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(DataError) -> DatasetDescription {
        if let declaredShape { try SampleShape.check(declaredShape) }
        if let declaredClasses, declaredClasses < 2 {
            throw DataError.invalidArgument("dataset.classes", "a classification dataset needs at least 2 classes, got \(declaredClasses)")
        }
        switch config.name {
        case "fashion-mnist":
            return try describeFashionMNIST(config, declaredShape: declaredShape, declaredClasses: declaredClasses)
        case "npy", "csv":
            var probe = config
            probe.shape = declaredShape ?? []
            let source = try DatasetSource(probe, environment: environment)
            let (train, test): (SplitScan, SplitScan)
            switch source.format {
            case .npy(let files):
                train = try NPYDataset.scan(
                    features: files.train, labels: files.trainLabels!, declaredShape: declaredShape, limit: config.trainSubset)
                test = try NPYDataset.scan(
                    features: files.test, labels: files.testLabels!, declaredShape: train.shape, limit: config.testSubset)
            case .csv(let files):
                train = try CSVTable.scan(files.train, files: files, declaredShape: declaredShape, limit: config.trainSubset)
                test = try CSVTable.scan(files.test, files: files, declaredShape: train.shape, limit: config.testSubset)
            case .fashionMNIST:
                preconditionFailure("handled above")
            }
            try checkSubset(config.trainSubset, key: "train_subset", available: train.available, path: train.path)
            try checkSubset(config.testSubset, key: "test_subset", available: test.available, path: test.path)
            guard train.count > 0 else { throw DataError(.malformedFile, "holds no samples", path: train.path) }
            guard test.count > 0 else { throw DataError(.malformedFile, "holds no samples", path: test.path) }
            let classes: Int
            if let declaredClasses {
                for scan in [train, test] where scan.largestLabel >= declaredClasses {
                    throw DataError(
                        .malformedFile,
                        "label \(scan.largestLabel) at sample \(scan.largestLabelIndex) is not a class 0..<\(declaredClasses) (dataset.classes)",
                        path: scan.labelsPath)
                }
                classes = declaredClasses
            } else {
                classes = max(train.largestLabel, test.largestLabel) + 1
                guard classes >= 2 else {
                    throw DataError(
                        .malformedFile, "every label is 0: a classification dataset needs at least 2 classes", path: train.labelsPath)
                }
            }
            return DatasetDescription(shape: train.shape, classCount: classes, trainCount: train.count, testCount: test.count)
        default:
            throw DataError.invalidArgument("dataset.name", "unknown dataset '\(config.name)'; known: \(names.joined(separator: ", "))")
        }
    }

    private static func describeFashionMNIST(
        _ config: DatasetConfig, declaredShape: [Int]?, declaredClasses: Int?
    ) throws(DataError) -> DatasetDescription {
        let shape = declaredShape ?? [1, 28, 28]
        guard shape.reduce(1, *) == FashionMNIST.featureCount else {
            throw DataError.invalidArgument(
                "dataset.shape", "Fashion-MNIST samples are 28x28 images (784 values, shape [1, 28, 28]); \(shape) holds \(shape.reduce(1, *))")
        }
        if let declaredClasses, declaredClasses != FashionMNIST.classCount {
            throw DataError.invalidArgument("dataset.classes", "Fashion-MNIST has 10 classes, got \(declaredClasses)")
        }
        try checkSubset(config.trainSubset, key: "train_subset", available: 60_000, path: nil)
        try checkSubset(config.testSubset, key: "test_subset", available: 10_000, path: nil)
        return DatasetDescription(
            shape: shape, classCount: FashionMNIST.classCount, trainCount: config.trainSubset ?? 60_000,
            testCount: config.testSubset ?? 10_000)
    }

    private static func checkSubset(_ subset: Int?, key: String, available: Int, path: String?) throws(DataError) {
        guard let subset else { return }
        guard subset >= 1 else { throw DataError.invalidArgument("dataset.\(key)", "must be at least 1, got \(subset)") }
        guard subset <= available else {
            let what = path.map { "the \(available) samples of \($0)" } ?? "the \(available) samples of the split"
            throw DataError.invalidArgument("dataset.\(key)", "\(subset) exceeds \(what)")
        }
    }

    // MARK: - Reading (in every process)

    /// The label of every training sample (the first `train_subset`), for the partition.
    /// - Returns: One label per training sample, each in `0..<config.classCount`.
    /// - Throws: ``DataError`` naming the file: unreadable, malformed, or a label out of range.
    public func trainLabels() throws(DataError) -> [Int32] {
        switch format {
        case .fashionMNIST(let folder):
            let path = try FashionMNIST.path(of: FashionMNIST.Split.train.labelsFile, in: folder)
            let labels = try IDXReader.read(path, limit: config.trainSubset)
            guard labels.dimensions.count == 1 else {
                throw DataError(.malformedFile, "expected one label per sample (dimensions [count]), got \(labels.dimensions)", path: path)
            }
            return try SampleShape.checkedLabels(labels.bytes.map { Int32($0) }, classCount: config.classCount, path: path)
        case .npy(let files):
            return try NPYDataset.labels(files.trainLabels!, limit: config.trainSubset, classCount: config.classCount)
        case .csv(let files):
            return try CSVTable.load(files.train, files: files, shape: config.shape, classCount: config.classCount, rows: [], limit: config.trainSubset).allLabels
        }
    }

    /// The training samples at `rows` (and no others), compact.
    /// - Parameter rows: Training sample indices, strictly ascending, below the (subset) training count.
    /// - Returns: Those samples, in order: uint8 pixels as bytes, other values as float32.
    /// - Throws: ``DataError`` naming the file: unreadable, malformed, a shape other than
    ///   `config.shape`, labels and features of different lengths, a label out of range, a NaN,
    ///   an image value outside [0, 1]; ``DataError/Code/invalidArgument`` (`rows`) for bad indices.
    public func train(rows: [Int]) throws(DataError) -> SampleStore {
        switch format {
        case .fashionMNIST(let folder):
            return try fashionMNIST(.train, folder: folder, rows: rows, limit: config.trainSubset)
        case .npy(let files):
            return try NPYDataset.load(
                features: files.train, labels: files.trainLabels!, rows: rows, limit: config.trainSubset, shape: config.shape,
                classCount: config.classCount)
        case .csv(let files):
            return try CSVTable.load(files.train, files: files, shape: config.shape, classCount: config.classCount, rows: rows, limit: config.trainSubset).samples
        }
    }

    /// The test samples (the first `test_subset`), compact.
    /// - Returns: The test split.
    /// - Throws: As ``train(rows:)``.
    public func test() throws(DataError) -> SampleStore {
        switch format {
        case .fashionMNIST(let folder):
            return try fashionMNIST(.test, folder: folder, rows: nil, limit: config.testSubset)
        case .npy(let files):
            return try NPYDataset.load(
                features: files.test, labels: files.testLabels!, rows: nil, limit: config.testSubset, shape: config.shape,
                classCount: config.classCount)
        case .csv(let files):
            return try CSVTable.load(files.test, files: files, shape: config.shape, classCount: config.classCount, rows: nil, limit: config.testSubset).samples
        }
    }

    private func fashionMNIST(_ split: FashionMNIST.Split, folder: String, rows: [Int]?, limit: Int?) throws(DataError) -> SampleStore {
        let imagesPath = try FashionMNIST.path(of: split.imagesFile, in: folder)
        let labelsPath = try FashionMNIST.path(of: split.labelsFile, in: folder)
        let images: IDXArray
        let available: Int
        if let rows {
            (images, available) = try IDXReader.readRows(imagesPath, rows: rows, limit: limit)
        } else {
            images = try IDXReader.read(imagesPath, limit: limit)
            available = images.itemCount
        }
        guard images.dimensions.count == 3, images.dimensions[1] == 28, images.dimensions[2] == 28 else {
            throw DataError(.malformedFile, "expected 28x28 images (dimensions [count, 28, 28]), got \(images.dimensions)", path: imagesPath)
        }
        guard images.itemSize == config.featureCount else {
            throw DataError(
                .invalidArgument, "28x28 images do not have the \(config.featureCount) values of dataset.shape \(config.shape)", path: imagesPath)
        }
        let labels = try IDXReader.read(labelsPath, limit: limit)
        guard labels.dimensions.count == 1 else {
            throw DataError(.malformedFile, "expected one label per sample (dimensions [count]), got \(labels.dimensions)", path: labelsPath)
        }
        guard labels.itemCount == available else {
            throw DataError(.malformedFile, "\(labels.itemCount) labels for \(available) images in \(imagesPath)", path: labelsPath)
        }
        let all = try SampleShape.checkedLabels(labels.bytes.map { Int32($0) }, classCount: config.classCount, path: labelsPath)
        let picked = rows.map { $0.map { all[$0] } } ?? all
        return SampleStore(values: .pixels(images.bytes), labels: picked, featureCount: config.featureCount, classCount: config.classCount)
    }
}

/// What a scan of one split found (``DatasetSource/describe(_:declaredShape:declaredClasses:environment:)``).
struct SplitScan {
    /// The features file.
    var path: String
    /// The labels file (the same as `path` for CSV).
    var labelsPath: String
    /// One sample's shape.
    var shape: [Int]
    /// Samples scanned (after the subset).
    var count: Int
    /// Samples in the file.
    var available: Int
    /// The largest label and where it is.
    var largestLabel: Int
    var largestLabelIndex: Int
}
