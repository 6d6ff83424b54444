import FedArenaCore
import Foundation
import Testing

@testable import FedArenaData

/// An NPY file of any dtype: numpy's preamble for `descr` and `shape`, then `data` as given.
func npyBytes(descr: String, shape: [Int], data: [UInt8]) -> [UInt8] {
    NPYHeader(descr: descr, fortranOrder: false, shape: shape).encoded() + data
}

/// Little-endian bytes of 64-bit integers (numpy's default label dtype `<i8`).
func int64Bytes(_ values: [Int64]) -> [UInt8] {
    values.flatMap { value in (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
}

/// Little-endian bytes of float32 values.
func float32Bytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { value in (0..<4).map { UInt8(truncatingIfNeeded: value.bitPattern >> (8 * $0)) } }
}

/// The message of the DataError `body` throws, or nil when it does not throw one.
func dataError(_ body: () throws -> Void) -> DataError? {
    do {
        try body()
        return nil
    } catch let error as DataError {
        return error
    } catch {
        return nil
    }
}

@Suite struct DatasetSourceTests {
    /// Six 1x2x2 uint8 images whose pixels are `10 * sample + position`, except sample 0 is
    /// `[0, 51, 102, 255]` (0, 0.2, 0.4, 1 after dividing by 255), and their labels.
    static let pixels: [UInt8] = [0, 51, 102, 255] + (1..<6).flatMap { sample in (0..<4).map { UInt8(10 * sample + $0) } }
    static let labels: [Int64] = [2, 0, 1, 0, 2, 1]

    /// An npy dataset in `folder`: train = the six images above (or the given array), test =
    /// its first three samples (fewer when there are fewer) with labels 2, 0, 1.
    func npyDataset(
        in folder: TemporaryDirectory, trainShape: [Int] = [6, 1, 2, 2], trainData: [UInt8]? = nil, trainDescr: String = "|u1",
        trainLabels: [UInt8]? = nil, labelsDescr: String = "<i8", labelsShape: [Int]? = nil
    ) -> DatasetConfig {
        let train = folder.write(npyBytes(descr: trainDescr, shape: trainShape, data: trainData ?? Self.pixels), to: "x.npy")
        let labels = trainLabels ?? int64Bytes(Self.labels)
        let itemSize = Int(labelsDescr.dropFirst(2))!
        let trainY = folder.write(npyBytes(descr: labelsDescr, shape: labelsShape ?? [labels.count / itemSize], data: labels), to: "y.npy")
        let data = trainData ?? Self.pixels
        let testRows = min(3, trainShape[0])
        let rowBytes = trainShape.dropFirst().reduce(1, *) * Int(trainDescr.dropFirst(2))!
        let test = folder.write(
            npyBytes(descr: trainDescr, shape: [testRows] + trainShape.dropFirst(), data: Array(data.prefix(testRows * rowBytes))),
            to: "tx.npy")
        let testY = folder.write(npyBytes(descr: "<i8", shape: [testRows], data: int64Bytes(Array([2, 0, 1].prefix(testRows)))), to: "ty.npy")
        return DatasetConfig(
            name: "npy", files: DatasetFiles(train: train, trainLabels: trainY, test: test, testLabels: testY), shape: [], classCount: 0)
    }

    /// `config` with the shape and class count `describe` found.
    func resolved(_ config: DatasetConfig, shape: [Int]? = nil, classes: Int? = nil) throws -> DatasetConfig {
        let description = try DatasetSource.describe(config, declaredShape: shape, declaredClasses: classes)
        var result = config
        result.shape = description.shape
        result.classCount = description.classCount
        return result
    }

    @Test func npyPixelsAreDescribedAndReadRowByRowAsBytes() throws {
        let folder = TemporaryDirectory()
        let config = npyDataset(in: folder)
        let description = try DatasetSource.describe(config, declaredShape: nil, declaredClasses: nil)
        // (6, 1, 2, 2) gives samples [1, 2, 2]; labels 0...2 give 3 classes.
        #expect(description == DatasetDescription(shape: [1, 2, 2], classCount: 3, trainCount: 6, testCount: 3))

        let source = try DatasetSource(try resolved(config))
        #expect(try source.trainLabels() == [2, 0, 1, 0, 2, 1])
        let rows = try source.train(rows: [0, 4])
        #expect(rows.holdsPixels)
        #expect(rows.values == .pixels([0, 51, 102, 255, 40, 41, 42, 43]))
        #expect(rows.labels == [2, 2])
        #expect(rows.featureBytes == 8)
        // byte / 255 in float32: 51/255 = 0.2 and 102/255 = 0.4 exactly in decimal, so the
        // correctly rounded quotients are the float literals.
        let floats = rows.samples()
        #expect(Array(floats.features[0..<4]) == [0, 0.2, 0.4, 1])
        #expect(floats.features[4] == Float(40) / 255)
        #expect(floats.featureCount == 4 && floats.classCount == 3)
        #expect(try source.test().count == 3)
    }

    @Test func npyDeclaredShapeMayBeFlatOrWithoutTheChannel() throws {
        let folder = TemporaryDirectory()
        for fileShape in [[6, 4], [6, 2, 2], [6, 1, 2, 2]] {
            let config = npyDataset(in: folder, trainShape: fileShape)
            #expect(try DatasetSource.describe(config, declaredShape: [1, 2, 2], declaredClasses: 5).shape == [1, 2, 2])
        }
        let flat = npyDataset(in: folder, trainShape: [6, 4])
        #expect(try DatasetSource.describe(flat, declaredShape: nil, declaredClasses: nil).shape == [4])
        let noChannel = npyDataset(in: folder, trainShape: [6, 2, 2])
        #expect(try DatasetSource.describe(noChannel, declaredShape: nil, declaredClasses: nil).shape == [1, 2, 2])
    }

    @Test func npyFloatTabularDataKeepsItsValues() throws {
        let folder = TemporaryDirectory()
        let values: [Float] = [-1.5, 2, 300, 0.25, 0, 7, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]
        let config = npyDataset(in: folder, trainShape: [6, 3], trainData: float32Bytes(values), trainDescr: "<f4")
        let source = try DatasetSource(try resolved(config, shape: [3], classes: 4))
        let store = try source.train(rows: [0, 1, 5])
        #expect(store.values == .floats([-1.5, 2, 300, 0.25, 0, 7, 4, 4, 4]))
        #expect(store.labels == [2, 0, 1])
        #expect(store.classCount == 4)
    }

    @Test func subsetsLimitBothSplits() throws {
        let folder = TemporaryDirectory()
        var config = npyDataset(in: folder)
        config.trainSubset = 4
        config.testSubset = 2
        let description = try DatasetSource.describe(config, declaredShape: nil, declaredClasses: nil)
        #expect(description.trainCount == 4 && description.testCount == 2)
        let source = try DatasetSource(try resolved(config))
        #expect(try source.trainLabels() == [2, 0, 1, 0])
        #expect(try source.test().count == 2)
        #expect(dataError { _ = try source.train(rows: [4]) }?.message == "rows: index 4 is outside 0..<4")
        config.trainSubset = 7
        #expect(dataError { _ = try DatasetSource.describe(config, declaredShape: nil, declaredClasses: nil) }?.message.contains("7 exceeds the 6 samples") == true)
    }

    /// Each broken file is refused naming the file and the reason.
    @Test func npyMistakesNameTheFileAndTheReason() throws {
        let folder = TemporaryDirectory()
        func describeError(_ config: DatasetConfig, shape: [Int]? = nil, classes: Int? = nil) -> DataError? {
            dataError { _ = try DatasetSource.describe(config, declaredShape: shape, declaredClasses: classes) }
        }
        // Five labels for six images.
        let short = npyDataset(in: folder, trainLabels: int64Bytes([0, 1, 2, 0, 1]))
        let lengths = describeError(short)
        #expect(lengths?.path == folder.file("y.npy"))
        #expect(lengths?.message == "5 labels for the 6 samples of \(folder.file("x.npy"))")
        // A label outside the declared classes, a negative one, a fractional one.
        let config = npyDataset(in: folder)
        #expect(describeError(config, classes: 2)?.message == "label 2 at sample 0 is not a class 0..<2 (dataset.classes)")
        let negative = npyDataset(in: folder, trainLabels: int64Bytes([0, 1, -3, 0, 1, 1]))
        #expect(describeError(negative)?.message == "label -3 at sample 2 is negative")
        let fractional = npyDataset(in: folder, trainLabels: float32Bytes([0, 1, 1.5, 0, 1, 1]), labelsDescr: "<f4")
        #expect(describeError(fractional)?.message == "label 1.5 at sample 2 is not a whole number")
        let oneClass = npyDataset(in: folder, trainLabels: int64Bytes([0, 0, 0, 0, 0, 0]))
        folder.write(npyBytes(descr: "<i8", shape: [3], data: int64Bytes([0, 0, 0])), to: "ty.npy")
        #expect(describeError(oneClass)?.message.contains("at least 2 classes") == true)
        // A NaN, and a float image value outside [0, 1].
        var values = [Float](repeating: 0.5, count: 24)
        values[6] = .nan
        let nan = npyDataset(in: folder, trainData: float32Bytes(values), trainDescr: "<f4")
        #expect(describeError(nan)?.message == "sample 1, value 2 is nan; features must be finite numbers")
        values[6] = 2
        let outside = npyDataset(in: folder, trainData: float32Bytes(values), trainDescr: "<f4")
        #expect(describeError(outside)?.message.hasPrefix("sample 1, value 2 is 2.0, outside [0, 1]") == true)
        // Channels-last images against a channels-first shape.
        let hwc = npyDataset(in: folder, trainShape: [2, 2, 2, 3], trainData: [UInt8](repeating: 1, count: 24), trainLabels: int64Bytes([0, 1]))
        let layout = describeError(hwc, shape: [3, 2, 2])
        #expect(layout?.path == folder.file("x.npy"))
        #expect(layout?.message.contains("do not match dataset.shape [3, 2, 2]; the file looks channels-last") == true)
        // Another dtype, a missing file, a truncated file.
        let ints = npyDataset(in: folder, trainData: [UInt8](repeating: 0, count: 96), trainDescr: "<i4")
        #expect(describeError(ints)?.code == .unsupportedFormat)
        var missing = config
        missing.files?.train = folder.file("absent.npy")
        let absent = describeError(missing)
        #expect(absent?.code == .ioError && absent?.path == folder.file("absent.npy"))
        let cut = npyDataset(in: folder, trainData: Array(Self.pixels.prefix(20)))
        #expect(describeError(cut)?.message == "truncated: shape (6, 1, 2, 2) of '|u1' needs 24 data bytes, the file holds 20")
        let padded = npyDataset(in: folder, trainData: Self.pixels + [9])
        #expect(describeError(padded)?.message.contains("1 bytes after the 24 data bytes") == true)
        // The test split must have the training samples' shape.
        let train = npyDataset(in: folder)
        folder.write(npyBytes(descr: "|u1", shape: [3, 5], data: [UInt8](repeating: 0, count: 15)), to: "tx.npy")
        #expect(describeError(train)?.path == folder.file("tx.npy"))
    }

    @Test func readingChecksTheResolvedShapeAndClasses() throws {
        let folder = TemporaryDirectory()
        var config = try resolved(npyDataset(in: folder))
        config.classCount = 2
        let source = try DatasetSource(config)
        #expect(dataError { _ = try source.trainLabels() }?.message == "label 2 at sample 0 is not a class 0..<2")
        config.classCount = 3
        config.shape = [5]
        #expect(dataError { _ = try DatasetSource(config).train(rows: [0]) }?.message.contains("do not match dataset.shape [5]") == true)
    }

    // MARK: - CSV

    func csvDataset(in folder: TemporaryDirectory, train: String, test: String? = nil, column: CSVColumn = .name("label"), header: Bool = true) -> DatasetConfig {
        let trainPath = folder.write(Array(train.utf8), to: "train.csv")
        let testPath = folder.write(Array((test ?? train).utf8), to: "test.csv")
        return DatasetConfig(
            name: "csv", files: DatasetFiles(train: trainPath, test: testPath, labelColumn: column, header: header), shape: [], classCount: 0)
    }

    @Test func csvWithAHeaderFindsTheLabelColumnByName() throws {
        let folder = TemporaryDirectory()
        let text = "a, \"label\" ,b\r\n0.5,1,-2\n\n1e-3, 0 ,4.25\n7,2.0,8\n"
        let config = csvDataset(in: folder, train: text)
        let description = try DatasetSource.describe(config, declaredShape: nil, declaredClasses: nil)
        #expect(description == DatasetDescription(shape: [2], classCount: 3, trainCount: 3, testCount: 3))
        let source = try DatasetSource(try resolved(config))
        #expect(try source.trainLabels() == [1, 0, 2])
        let rows = try source.train(rows: [1, 2])
        #expect(rows.values == .floats([0.001, 4.25, 7, 8]))
        #expect(rows.labels == [0, 2])
        #expect(try source.test().values == .floats([0.5, -2, 0.001, 4.25, 7, 8]))
    }

    @Test func csvWithoutAHeaderTakesTheLabelByIndex() throws {
        let folder = TemporaryDirectory()
        let config = csvDataset(in: folder, train: "0,0.1,0.2,0.3,0.4\n1,1,1,0,0", column: .index(0), header: false)
        let description = try DatasetSource.describe(config, declaredShape: [1, 2, 2], declaredClasses: 4)
        #expect(description == DatasetDescription(shape: [1, 2, 2], classCount: 4, trainCount: 2, testCount: 2))
        let store = try DatasetSource(try resolved(config, shape: [1, 2, 2], classes: 4)).train(rows: [0, 1])
        #expect(store.values == .floats([0.1, 0.2, 0.3, 0.4, 1, 1, 0, 0]))
        #expect(store.labels == [0, 1])
    }

    @Test(arguments: [
        ("label,a\n0,1\n1,2,3\n", "line 3 has 3 fields, the header has 2"),
        ("label,a\n0,1\n1,x\n", "line 3, column 2: \"x\" is not a number"),
        ("label,a\n0,1\n1,nan\n", "line 3, column 2 is nan; features must be finite numbers"),
        ("label,a\n0,1\n1.5,2\n", "line 3: label 1.5 is not a whole non-negative class index"),
        ("label,a\n0,1\n-1,2\n", "line 3: label -1 is not a whole non-negative class index"),
        ("label,a\n0,1\n1,\n", "line 3, column 2: empty field"),
        ("y,a\n0,1\n1,2\n", "the header has no column named \"label\" (label_column); its columns: y, a"),
        ("label\n0\n", "line 1 has 1 field; a sample needs a label and at least one feature"),
        ("", "the file is empty"),
    ])
    func csvMistakesNameTheLineAndTheReason(text: String, message: String) {
        let folder = TemporaryDirectory()
        let config = csvDataset(in: folder, train: text, test: "label,a\n0,1\n1,0\n")
        let error = dataError { _ = try DatasetSource.describe(config, declaredShape: nil, declaredClasses: nil) }
        #expect(error?.message == message)
        #expect(error?.path == folder.file("train.csv"))
    }

    @Test func csvImageShapesNeedValuesInTheUnitInterval() {
        let folder = TemporaryDirectory()
        let config = csvDataset(in: folder, train: "label,p0,p1,p2,p3\n0,0,128,255,0\n1,0,0,0,0\n")
        let error = dataError { _ = try DatasetSource.describe(config, declaredShape: [1, 2, 2], declaredClasses: nil) }
        #expect(error?.message.hasPrefix("line 2, column 3 is 128.0, outside [0, 1]") == true)
        let wrong = dataError { _ = try DatasetSource.describe(config, declaredShape: [3], declaredClasses: nil) }
        #expect(wrong?.message.hasPrefix("4 feature columns (besides the label) do not fill dataset.shape [3]") == true)
        let named = csvDataset(in: folder, train: "0,1\n1,0\n", header: false)
        #expect(dataError { _ = try DatasetSource.describe(named, declaredShape: nil, declaredClasses: nil) }?.message
            .contains("is a column name, but header is false") == true)
    }

    @Test func fashionMNISTIsDescribedWithoutReading() throws {
        var config = DatasetConfig(directory: "/nonexistent")
        config.trainSubset = 1_000
        let description = try DatasetSource.describe(config, declaredShape: nil, declaredClasses: nil)
        #expect(description == DatasetDescription(shape: [1, 28, 28], classCount: 10, trainCount: 1_000, testCount: 10_000))
        #expect(try DatasetSource.describe(config, declaredShape: [784], declaredClasses: 10).shape == [784])
        #expect(dataError { _ = try DatasetSource.describe(config, declaredShape: [1, 32, 32], declaredClasses: nil) } != nil)
        #expect(dataError { _ = try DatasetSource.describe(config, declaredShape: nil, declaredClasses: 5) } != nil)
        #expect(dataError { _ = try DatasetSource(config) }?.code == .missingDataset)
    }

    /// The compact path gives exactly the floats of the float path on the real files.
    @Test(.enabled(if: FashionMNIST.isAvailable(), "dataset-fashion-mnist is not installed"))
    func fashionMNISTRowsMatchTheFloatReader() throws {
        var config = DatasetConfig()
        config.trainSubset = 2_000
        config.testSubset = 300
        let source = try DatasetSource(config)
        let rows = [0, 1, 7, 999, 1_999]
        let store = try source.train(rows: rows)
        #expect(store.holdsPixels && store.featureBytes == rows.count * 784)
        let reference = try FashionMNIST.load(trainLimit: 2_000, testLimit: 300)
        #expect(store.samples() == reference.train.subset(rows))
        #expect(try source.test().samples() == reference.test)
        #expect(try source.trainLabels() == reference.train.labels)
    }
}
