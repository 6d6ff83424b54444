import FedArenaCore
import Foundation
import Testing

@testable import FedArenaData

/// The real dataset, loaded once for this file (nil when it is not installed).
private let installed: FashionMNIST? = try? FashionMNIST.load(environment: [:])

@Suite struct FashionMNISTTests {
    /// Writes a tiny Fashion-MNIST look-alike (`train` and `test` samples) into `folder`.
    func writeFixture(
        in folder: TemporaryDirectory, train: Int = 6, test: Int = 4, imageSide: Int = 28, badLabel: Bool = false
    ) throws {
        for (split, count) in [(FashionMNIST.Split.train, train), (.test, test)] {
            let pixels = (0..<(count * imageSide * imageSide)).map { UInt8(($0 * 7 + count) % 256) }
            try IDXWriter.write(
                IDXArray(dimensions: [count, imageSide, imageSide], bytes: pixels), to: folder.file(split.imagesFile))
            var labels = (0..<count).map { UInt8(($0 * 3 + 1) % 10) }
            if badLabel { labels[count - 1] = 10 }
            try IDXWriter.write(IDXArray(dimensions: [count], bytes: labels), to: folder.file(split.labelsFile))
        }
    }

    func loadError(directory: String? = nil, environment: [String: String] = [:]) -> DataError? {
        do {
            _ = try FashionMNIST.load(directory: directory, environment: environment)
            return nil
        } catch {
            return error
        }
    }

    @Test func loadsAFixtureFolderNamedByTheEnvironment() throws {
        let folder = TemporaryDirectory()
        try writeFixture(in: folder)
        let data = try FashionMNIST.load(environment: ["FEDARENA_DATA": folder.path])
        #expect(data.train.count == 6)
        #expect(data.test.count == 4)
        #expect(data.train.featureCount == 784)
        #expect(data.train.classCount == 10)
        #expect(data.train.labels == [1, 4, 7, 0, 3, 6])
        #expect(data.test.labels == [1, 4, 7, 0])
        #expect(Array(data.train.features.prefix(3)) == [Float(6) / 255, Float(13) / 255, Float(20) / 255])
        #expect(data.test.features[784] == Float((784 * 7 + 4) % 256) / 255)
        // The explicit folder wins over the environment.
        let direct = try FashionMNIST.load(directory: folder.path, environment: ["FEDARENA_DATA": "/nonexistent"])
        #expect(direct == data)
        // Limits, and a single split.
        let limited = try FashionMNIST.load(directory: folder.path, trainLimit: 2, testLimit: 1)
        #expect(limited.train.labels == [1, 4])
        #expect(limited.train.features == Array(data.train.features.prefix(2 * 784)))
        #expect(limited.test.count == 1)
        #expect(try FashionMNIST.load(.test, directory: folder.path, limit: 3).labels == [1, 4, 7])
        // From a scenario's dataset section.
        let config = DatasetConfig(directory: folder.path, trainSubset: 5)
        #expect(try FashionMNIST.load(config).train.count == 5)
    }

    @Test func readsUncompressedTwins() throws {
        let folder = TemporaryDirectory()
        try writeFixture(in: folder)
        let compressed = try FashionMNIST.load(directory: folder.path)
        let plain = TemporaryDirectory()
        for name in FashionMNIST.fileNames {
            let array = try IDXReader.read(folder.file(name))
            try IDXWriter.write(array, to: plain.file(String(name.dropLast(3))), compressed: false)
        }
        #expect(try FashionMNIST.load(directory: plain.path) == compressed)
    }

    @Test func missingFolderSaysWhatToInstall() throws {
        let error = try #require(loadError(environment: ["FEDARENA_DATA": "/nonexistent/fmnist"]))
        #expect(error.code == .missingDataset)
        #expect(
            error.message
                == "Fashion-MNIST not found: looked in /nonexistent/fmnist (from FEDARENA_DATA) for "
                + "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz; "
                + "the folder does not exist. Install the Debian package dataset-fashion-mnist "
                + "(apt-get install dataset-fashion-mnist) or set FEDARENA_DATA to a folder holding the four IDX .gz files")
    }

    @Test func partialFolderNamesTheMissingFiles() throws {
        let folder = TemporaryDirectory()
        try writeFixture(in: folder)
        try FileManager.default.removeItem(atPath: folder.file("t10k-images-idx3-ubyte.gz"))
        try FileManager.default.removeItem(atPath: folder.file("train-labels-idx1-ubyte.gz"))
        let error = try #require(loadError(directory: folder.path))
        #expect(error.code == .missingDataset)
        #expect(error.message.contains("looked in \(folder.path) (the directory argument)"))
        #expect(error.message.contains("; missing train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz. Install"))
        #expect(error.message.contains("apt-get install dataset-fashion-mnist"))
    }

    @Test func defaultFolderIsTheDebianPackage() throws {
        #expect(FashionMNIST.packageDirectory == "/usr/share/datasets/fashion-mnist")
        if !FileManager.default.fileExists(atPath: FashionMNIST.packageDirectory) {
            let error = try #require(loadError())
            #expect(error.message.contains("(the dataset-fashion-mnist package's folder; FEDARENA_DATA is not set)"))
        } else {
            #expect(try FashionMNIST.locate(environment: ["FEDARENA_DATA": ""]) == FashionMNIST.packageDirectory)
        }
    }

    @Test func rejectsMalformedFixtures() throws {
        let badLabels = TemporaryDirectory()
        try writeFixture(in: badLabels, badLabel: true)
        let labelError = try #require(loadError(directory: badLabels.path))
        #expect(labelError.code == .malformedFile)
        #expect(labelError.message == "label 10 at index 5 is not a class 0..<10")
        #expect(labelError.path == badLabels.file("train-labels-idx1-ubyte.gz"))

        let smallImages = TemporaryDirectory()
        try writeFixture(in: smallImages, imageSide: 27)
        let imageError = try #require(loadError(directory: smallImages.path))
        #expect(imageError.message == "expected 28x28 images (dimensions [count, 28, 28]), got [6, 27, 27]")

        let mismatched = TemporaryDirectory()
        try writeFixture(in: mismatched)
        try IDXWriter.write(IDXArray(dimensions: [5], bytes: [1, 2, 3, 4, 5]), to: mismatched.file("train-labels-idx1-ubyte.gz"))
        #expect(loadError(directory: mismatched.path)?.message.hasPrefix("5 labels for 6 images") == true)

        #expect(throws: DataError.self) { try FashionMNIST.load(DatasetConfig(name: "cifar-10")) }
    }

    // Values below were read once with numpy (gzip + np.frombuffer, as fl_common.py does).
    @Test(.enabled(if: installed != nil, "dataset-fashion-mnist is not installed"))
    func realDatasetMatchesNumpy() throws {
        let data = try #require(installed)
        #expect(data.train.count == 60_000)
        #expect(data.test.count == 10_000)
        #expect(data.train.features.count == 60_000 * 784)
        #expect(data.train.classHistogram == [Int](repeating: 6_000, count: 10))
        #expect(data.test.classHistogram == [Int](repeating: 1_000, count: 10))
        #expect(Array(data.train.labels.prefix(10)) == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5])
        #expect(Array(data.test.labels.prefix(10)) == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7])
        let pixels: [Float] = [222, 220, 218, 203, 198, 221, 215, 213, 222, 220].map { $0 / 255 }
        #expect(Array(data.train.features[350..<360]) == pixels)
        #expect(data.train.features[0..<784].reduce(0) { $0 + Int(($1 * 255).rounded()) } == 76_247)
        #expect(data.test.features.reduce(0) { $0 + Int(($1 * 255).rounded()) } == 573_469_082)
        let limited = try FashionMNIST.load(.train, limit: 100, environment: [:])
        #expect(limited.labels == Array(data.train.labels.prefix(100)))
        #expect(limited.features == Array(data.train.features.prefix(100 * 784)))
    }
}
