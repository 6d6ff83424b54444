import FedArenaCore
import Foundation

/// Fashion-MNIST (Xiao, Rasul and Vollgraf 2017, "Fashion-MNIST: a Novel Image Dataset for
/// Benchmarking Machine Learning Algorithms"): 60,000 training and 10,000 test 28x28 greyscale
/// images of 10 clothing classes, read in place from the four IDX `.gz` files.
///
/// The folder is, in this order: the `directory` argument, else the `FEDARENA_DATA` environment
/// variable, else `/usr/share/datasets/fashion-mnist` (the Debian package
/// `dataset-fashion-mnist`). The first one given is the only one searched: a wrong
/// `FEDARENA_DATA` is an error, not a silent fall-back. Each file may also be stored
/// uncompressed (its name without `.gz`). Pixels become `Float(byte) / 255`, as numpy's
/// `x.astype(np.float32) / np.float32(255.0)`, so features are bit-identical to the numpy reference.
public struct FashionMNIST: Sendable, Equatable {
    /// The training split (60,000 samples unless limited).
    public var train: LabeledSamples
    /// The test split (10,000 samples unless limited).
    public var test: LabeledSamples

    /// Creates a dataset value from already loaded splits.
    /// - Parameters:
    ///   - train: The training samples.
    ///   - test: The test samples.
    public init(train: LabeledSamples, test: LabeledSamples) {
        self.train = train
        self.test = test
    }

    /// One of the two splits.
    public enum Split: String, Sendable, CaseIterable, CustomStringConvertible {
        /// The 60,000 training samples.
        case train
        /// The 10,000 test samples.
        case test

        /// The images file name, with `.gz`.
        public var imagesFile: String { self == .train ? "train-images-idx3-ubyte.gz" : "t10k-images-idx3-ubyte.gz" }
        /// The labels file name, with `.gz`.
        public var labelsFile: String { self == .train ? "train-labels-idx1-ubyte.gz" : "t10k-labels-idx1-ubyte.gz" }

        public var description: String { rawValue }
    }

    /// The folder the Debian package `dataset-fashion-mnist` installs.
    public static let packageDirectory = "/usr/share/datasets/fashion-mnist"
    /// The environment variable naming another folder.
    public static let environmentVariable = "FEDARENA_DATA"
    /// The four files, training images first.
    public static let fileNames = [
        Split.train.imagesFile, Split.train.labelsFile, Split.test.imagesFile, Split.test.labelsFile,
    ]
    /// Values per sample (28 x 28 pixels).
    public static let featureCount = 784
    /// The number of classes.
    public static let classCount = 10
    /// The class names, by label.
    public static let classNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]

    /// Finds the folder holding the four files.
    /// - Parameters:
    ///   - directory: A folder to use, or `nil` for `FEDARENA_DATA`, else the Debian package's folder.
    ///   - environment: The environment to read `FEDARENA_DATA` from (injectable for tests).
    /// - Returns: The folder's path.
    /// - Throws: ``DataError/Code/missingDataset`` naming the folder, where its name came from, the
    ///   missing files, and how to install the dataset.
    public static func locate(
        directory: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(DataError) -> String {
        let (folder, source) = chooseFolder(directory: directory, environment: environment)
        let missing = fileNames.filter { resolve($0, in: folder) == nil }
        if missing.isEmpty { return folder }
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) && isDirectory.boolValue
        let situation =
            exists
            ? "missing \(missing.joined(separator: ", "))"
            : "the folder does not exist"
        throw DataError(
            .missingDataset,
            "Fashion-MNIST not found: looked in \(folder) (\(source)) for \(fileNames.joined(separator: ", ")); "
                + "\(situation). Install the Debian package dataset-fashion-mnist "
                + "(apt-get install dataset-fashion-mnist) or set \(environmentVariable) to a folder holding the four IDX .gz files",
            path: folder)
    }

    /// Whether the dataset can be found without an explicit folder (for enabling tests).
    /// - Parameter environment: The environment to read `FEDARENA_DATA` from.
    public static func isAvailable(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        (try? locate(environment: environment)) != nil
    }

    /// Loads both splits.
    /// - Parameters:
    ///   - directory: A folder to use, or `nil` for `FEDARENA_DATA`, else the Debian package's folder.
    ///   - trainLimit: Keep only the first `trainLimit` training samples (quick tests), or `nil` for all.
    ///   - testLimit: Keep only the first `testLimit` test samples, or `nil` for all.
    ///   - environment: The environment to read `FEDARENA_DATA` from.
    /// - Returns: The training and test samples, features in [0, 1], 784 per sample, 10 classes.
    /// - Throws: ``DataError/Code/missingDataset`` when the files are not there (see
    ///   ``locate(directory:environment:)``), ``DataError/Code/malformedFile`` or
    ///   ``DataError/Code/ioError`` from reading them, ``DataError/Code/invalidArgument`` for a negative limit.
    public static func load(
        directory: String? = nil, trainLimit: Int? = nil, testLimit: Int? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(DataError) -> FashionMNIST {
        let folder = try locate(directory: directory, environment: environment)
        return FashionMNIST(
            train: try readSplit(.train, folder: folder, limit: trainLimit),
            test: try readSplit(.test, folder: folder, limit: testLimit))
    }

    /// Loads one split (a client needs only `.train`).
    /// - Parameters:
    ///   - split: Which split.
    ///   - directory: A folder to use, or `nil` for `FEDARENA_DATA`, else the Debian package's folder.
    ///   - limit: Keep only the first `limit` samples, or `nil` for all.
    ///   - environment: The environment to read `FEDARENA_DATA` from.
    /// - Returns: The split's samples.
    /// - Throws: As ``load(directory:trainLimit:testLimit:environment:)``.
    public static func load(
        _ split: Split, directory: String? = nil, limit: Int? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(DataError) -> LabeledSamples {
        try readSplit(split, folder: try locate(directory: directory, environment: environment), limit: limit)
    }

    /// Loads both splits as a scenario's dataset section says (`directory`, `trainSubset`, `testSubset`).
    /// - Parameters:
    ///   - config: The dataset section; its `name` must be `fashion-mnist`.
    ///   - environment: The environment to read `FEDARENA_DATA` from.
    /// - Returns: The training and test samples.
    /// - Throws: ``DataError/Code/invalidArgument`` for another dataset name, else as
    ///   ``load(directory:trainLimit:testLimit:environment:)``.
    public static func load(
        _ config: DatasetConfig, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(DataError) -> FashionMNIST {
        guard config.name == "fashion-mnist" else {
            throw DataError.invalidArgument("dataset.name", "unknown dataset '\(config.name)'; known: fashion-mnist")
        }
        return try load(
            directory: config.directory, trainLimit: config.trainSubset, testLimit: config.testSubset,
            environment: environment)
    }

    // MARK: - Reading

    private static func chooseFolder(directory: String?, environment: [String: String]) -> (String, String) {
        if let directory { return (directory, "the directory argument") }
        if let value = environment[environmentVariable], !value.isEmpty {
            return (value, "from \(environmentVariable)")
        }
        return (packageDirectory, "the dataset-fashion-mnist package's folder; \(environmentVariable) is not set")
    }

    /// The path of `name` in `folder`, or of its uncompressed twin.
    /// - Throws: ``DataError/Code/missingDataset`` when neither is there.
    static func path(of name: String, in folder: String) throws(DataError) -> String {
        guard let path = resolve(name, in: folder) else {
            throw DataError(.missingDataset, "\(name) (or \(name.dropLast(3))) vanished from \(folder)", path: folder)
        }
        return path
    }

    /// The path of `name` in `folder`, or of its uncompressed twin, or `nil`.
    private static func resolve(_ name: String, in folder: String) -> String? {
        let url = URL(fileURLWithPath: folder, isDirectory: true)
        for candidate in [name, String(name.dropLast(3))] {
            let path = url.appendingPathComponent(candidate).path
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
                return path
            }
        }
        return nil
    }

    private static func readSplit(_ split: Split, folder: String, limit: Int?) throws(DataError) -> LabeledSamples {
        guard let imagesPath = resolve(split.imagesFile, in: folder), let labelsPath = resolve(split.labelsFile, in: folder)
        else {
            throw DataError(.missingDataset, "the \(split) files vanished from \(folder)", path: folder)
        }
        let images = try IDXReader.readFloats(imagesPath, limit: limit, dividedBy: 255)
        let labels = try IDXReader.read(labelsPath, limit: limit)
        guard images.dimensions.count == 3, images.dimensions[1] == 28, images.dimensions[2] == 28 else {
            throw DataError(
                .malformedFile, "expected 28x28 images (dimensions [count, 28, 28]), got \(images.dimensions)",
                path: imagesPath)
        }
        guard labels.dimensions.count == 1 else {
            throw DataError(.malformedFile, "expected one label per sample (dimensions [count]), got \(labels.dimensions)", path: labelsPath)
        }
        guard labels.itemCount == images.dimensions[0] else {
            throw DataError(
                .malformedFile, "\(labels.itemCount) labels for \(images.dimensions[0]) images in \(imagesPath)",
                path: labelsPath)
        }
        var labelValues = [Int32](repeating: 0, count: labels.itemCount)
        for (index, byte) in labels.bytes.enumerated() {
            guard byte < classCount else {
                throw DataError(.malformedFile, "label \(byte) at index \(index) is not a class 0..<\(classCount)", path: labelsPath)
            }
            labelValues[index] = Int32(byte)
        }
        return LabeledSamples(
            features: images.values, labels: labelValues, featureCount: featureCount,
            classCount: classCount)
    }
}
