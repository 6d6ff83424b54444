import Foundation
import Testing

@testable import FedArenaData

/// Whether `python3 -c "import numpy"` works here.
private let numpyAvailable: Bool = runPython("import numpy") != nil

/// Runs `python3 -c script`, returning its standard output, or nil when it cannot run or fails.
private func runPython(_ script: String) -> String? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return nil }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return nil }
    return String(decoding: data, as: UTF8.self)
}

/// An NPY file from a preamble version, the header text numpy wrote, and data bytes.
private func npy(major: UInt8 = 1, _ header: String, _ data: [UInt8]) -> [UInt8] {
    let length = header.utf8.count
    let lengthBytes: [UInt8] =
        major == 1 ? [UInt8(length & 0xFF), UInt8(length >> 8)] : (0..<4).map { UInt8((length >> (8 * $0)) & 0xFF) }
    return [0x93] + Array("NUMPY".utf8) + [major, 0] + lengthBytes + Array(header.utf8) + data
}

/// numpy's header text: the dictionary, padded with spaces, a newline (total as numpy wrote it).
private func numpyHeader(_ dictionary: String, total: Int) -> String {
    dictionary + String(repeating: " ", count: total - dictionary.count - 1) + "\n"
}

@Suite struct NPYFileTests {
    func decodeError(_ bytes: [UInt8], allowConversion: Bool = false) -> DataError? {
        do {
            _ = try NPYFile.decode(bytes, allowConversion: allowConversion)
            return nil
        } catch {
            return error
        }
    }

    /// `np.save(f, np.array([1.5, -2, 3], dtype='<f4'))` with numpy 2.4.6, byte for byte.
    static let numpyVector: [UInt8] =
        [147, 78, 85, 77, 80, 89, 1, 0, 118, 0, 123, 39, 100, 101, 115, 99, 114, 39, 58, 32, 39, 60, 102, 52, 39, 44, 32, 39]
        + [102, 111, 114, 116, 114, 97, 110, 95, 111, 114, 100, 101, 114, 39, 58, 32, 70, 97, 108, 115, 101, 44, 32, 39]
        + [115, 104, 97, 112, 101, 39, 58, 32, 40, 51, 44, 41, 44, 32, 125]
        + [UInt8](repeating: 32, count: 60) + [10] + [0, 0, 192, 63, 0, 0, 0, 192, 0, 0, 64, 64]

    @Test func encodesExactlyAsNumpy() throws {
        #expect(try NPYFile.encode([1.5, -2, 3], shape: [3]) == Self.numpyVector)
    }

    /// Header texts numpy 2.4.6 wrote for these shapes (all 118 bytes: data at offset 128).
    @Test(arguments: [
        ([2, 3], "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"),
        ([], "{'descr': '<f4', 'fortran_order': False, 'shape': (), }"),
        ([0], "{'descr': '<f4', 'fortran_order': False, 'shape': (0,), }"),
        ([60_000, 784], "{'descr': '<f4', 'fortran_order': False, 'shape': (60000, 784), }"),
        ([1, 2, 3, 4], "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3, 4), }"),
    ])
    func headersMatchNumpy(shape: [Int], dictionary: String) throws {
        let header = NPYHeader(descr: "<f4", fortranOrder: false, shape: shape).encoded()
        #expect(header.count == 128)
        #expect(Array(header[0..<10]) == [0x93, 78, 85, 77, 80, 89, 1, 0, 118, 0])
        #expect(String(decoding: header[10...], as: UTF8.self) == numpyHeader(dictionary, total: 118))
        let count = shape.reduce(1, *)
        guard count < 1_000 else { return }  // 47 million floats are too slow for a debug build
        let bytes = try NPYFile.encode([Float](repeating: 0.25, count: count), shape: shape)
        #expect(Array(bytes.prefix(128)) == header)
        #expect(bytes.count == 128 + 4 * count)
        let back = try NPYFile.decode(bytes)
        #expect(back.shape == shape)
        #expect(back.values == [Float](repeating: 0.25, count: count))
    }

    @Test func longShapesStayAlignedTo64() throws {
        for rank in 1...40 {
            let bytes = try NPYFile.encode([7], shape: [Int](repeating: 1, count: rank))
            let dataStart = 10 + Int(bytes[8]) + Int(bytes[9]) << 8
            #expect(dataStart % 64 == 0)
            #expect(bytes[dataStart - 1] == 10)
            #expect(try NPYFile.decode(bytes).shape.count == rank)
        }
    }

    @Test func roundTripsThroughAFile() throws {
        let folder = TemporaryDirectory()
        let values: [Float] = [0, -0, 1, -1, .pi, .greatestFiniteMagnitude, .leastNonzeroMagnitude, .infinity, 1e-30, 65_504]
        let path = folder.file("m.npy")
        try NPYFile.write(values, shape: [2, 5], to: path)
        let back = try NPYFile.read(path)
        #expect(back.shape == [2, 5])
        #expect(back.values.map(\.bitPattern) == values.map(\.bitPattern))
        let nan = folder.file("nan.npy")
        try NPYFile.write([.nan], shape: [], to: nan)
        #expect(try NPYFile.read(nan).values[0].isNaN)
    }

    @Test func readsNumpyVersion2AndConvertibleDtypes() throws {
        let v2 = npy(
            major: 2, numpyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", total: 116),
            [0, 0, 192, 63, 0, 0, 0, 192, 0, 0, 64, 64])
        #expect(try NPYFile.decode(v2).values == [1.5, -2, 3])

        let f8 = npy(
            numpyHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", total: 118),
            [0, 0, 0, 0, 0, 0, 248, 63, 0, 0, 0, 0, 0, 0, 0, 192, 0, 0, 0, 0, 0, 0, 8, 64])
        let strict = try #require(decodeError(f8))
        #expect(strict.code == .unsupportedFormat)
        #expect(strict.message == "dtype '<f8' is not '<f4' (little-endian float32) (pass allowConversion: true to convert it)")
        #expect(try NPYFile.decode(f8, allowConversion: true).values == [1.5, -2, 3])

        let i8 = npy(
            numpyHeader("{'descr': '<i8', 'fortran_order': False, 'shape': (2, 2), }", total: 118),
            [1, 0, 0, 0, 0, 0, 0, 0, 254, 255, 255, 255, 255, 255, 255, 255, 3, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0])
        let ints = try NPYFile.decode(i8, allowConversion: true)
        #expect(ints.values == [1, -2, 3, 4])
        #expect(ints.shape == [2, 2])

        let u1 = npy(numpyHeader("{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }", total: 118), [0, 7, 255])
        #expect(try NPYFile.decode(u1, allowConversion: true).values == [0, 7, 255])
    }

    @Test func rejectsWhatItCannotRead() throws {
        let header = { (dictionary: String) in numpyHeader(dictionary, total: 118) }
        let cases: [(name: String, bytes: [UInt8], code: DataError.Code, message: String)] = [
            ("empty", [], .malformedFile, "not an NPY file: it does not start with \\x93NUMPY"),
            ("magic", Array("PK\u{3}\u{4}0123456789".utf8), .malformedFile, "not an NPY file: it does not start with \\x93NUMPY"),
            (
                "version 3", npy(header("{'descr': '<f4', 'fortran_order': False, 'shape': (0,), }"), []).enumerated().map { $0 == 6 ? 3 : $1 },
                .unsupportedFormat, "NPY format version 3.0; only 1.0 and 2.0 are read"
            ),
            (
                "big-endian", npy(header("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }"), [63, 128, 0, 0, 64, 0, 0, 0]),
                .unsupportedFormat, "dtype '>f4' is not '<f4' (little-endian float32)"
            ),
            (
                "fortran", npy(header("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }"), [UInt8](repeating: 0, count: 24)),
                .unsupportedFormat, "fortran_order is True; only C order is read"
            ),
            (
                "short data", npy(header("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"), [0, 0, 192, 63, 0, 0, 0, 192]),
                .malformedFile, "shape (3,) of '<f4' needs 12 data bytes, the file holds 8"
            ),
            (
                "long data", npy(header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }"), [0, 0, 192, 63, 0]),
                .malformedFile, "shape (1,) of '<f4' needs 4 data bytes, the file holds 5"
            ),
            (
                "cut header", Array(Self.numpyVector.prefix(60)), .malformedFile, "the header claims 118 bytes, the file holds 50"
            ),
            (
                "missing key", npy(header("{'descr': '<f4', 'shape': (1,), }"), [0, 0, 0, 0]), .malformedFile,
                "bad header {'descr': '<f4', 'shape': (1,), }: keys are [\"descr\", \"shape\"], expected ['descr', 'fortran_order', 'shape']"
            ),
            (
                "garbage", npy(header("{'descr': '<f4', 'fortran_order': False, 'shape': [1], }"), [0, 0, 0, 0]), .malformedFile,
                "bad header {'descr': '<f4', 'fortran_order': False, 'shape': [1], }: unexpected character '[' at offset 50"
            ),
        ]
        for item in cases {
            let error = decodeError(item.bytes)
            #expect(error?.code == item.code, "\(item.name)")
            #expect(error?.message == item.message, "\(item.name)")
        }
    }

    @Test func fileErrorsNameThePath() throws {
        do {
            _ = try NPYFile.read("/nonexistent/fedarena/model.npy")
            Issue.record("read a missing file")
        } catch {
            #expect(error.code == .ioError)
            #expect(error.path == "/nonexistent/fedarena/model.npy")
        }
        let folder = TemporaryDirectory()
        let bad = folder.write([1, 2, 3], to: "bad.npy")
        do {
            _ = try NPYFile.read(bad)
            Issue.record("read a malformed file")
        } catch {
            #expect(error.description == "\(bad): malformed file: not an NPY file: it does not start with \\x93NUMPY")
        }
        #expect(throws: DataError.self) { try NPYFile.write([1, 2, 3], shape: [2, 2], to: folder.file("x.npy")) }
        #expect(throws: DataError.self) { try NPYFile.write([1], shape: [1], to: "/nonexistent/fedarena/x.npy") }
    }

    @Test(.enabled(if: numpyAvailable, "python3 with numpy is not available"))
    func numpyReadsOursAndWeReadNumpys() throws {
        let folder = TemporaryDirectory()
        let ours = folder.file("ours.npy")
        try NPYFile.write([1.5, -2, 3, 0.1, 7, 8], shape: [2, 3], to: ours)
        let seen = try #require(
            runPython("import numpy as np; a = np.load('\(ours)'); print(a.dtype.str, a.shape, a.flags['C_CONTIGUOUS'], a.ravel().tolist())"))
        #expect(seen == "<f4 (2, 3) True [1.5, -2.0, 3.0, 0.10000000149011612, 7.0, 8.0]\n")

        let theirs = folder.file("theirs.npy")
        _ = try #require(runPython("import numpy as np; np.save('\(theirs)', np.arange(12, dtype='<f4').reshape(3, 4) / 4)"))
        let back = try NPYFile.read(theirs)
        #expect(back.shape == [3, 4])
        #expect(back.values == (0..<12).map { Float($0) / 4 })
        // And the bytes are identical to numpy's for the same array.
        let mine = folder.file("mine.npy")
        try NPYFile.write(back.values, shape: back.shape, to: mine)
        #expect(folder.read("mine.npy") == folder.read("theirs.npy"))
    }

    @Test func infoAndRowsOfOtherDtypesAndCompressedFiles() throws {
        let folder = TemporaryDirectory()
        let bytes: [UInt8] = Array(0..<30)
        let plain = folder.write(NPYHeader(descr: "|u1", fortranOrder: false, shape: [5, 2, 3]).encoded() + bytes, to: "x.npy")
        #expect(try NPYFile.info(plain) == NPYFile.ArrayInfo(descr: "|u1", shape: [5, 2, 3]))
        let gz = folder.file("x.npy.gz")
        let file = try GzipFile.open(writing: gz, compressed: true)
        try file.write(NPYHeader(descr: "|u1", fortranOrder: false, shape: [5, 2, 3]).encoded() + bytes)
        try file.close()
        for path in [plain, gz] {
            var seen = [(Int, [UInt8])]()
            try NPYFile.scanRows(path, rows: [1, 4]) { _, index, row throws(DataError) in seen.append((index, Array(row))) }
            // Items 1 and 4 are bytes 6..<12 and 24..<30.
            #expect(seen.map(\.0) == [1, 4])
            #expect(seen.map(\.1) == [Array(6..<12), Array(24..<30)])
        }
        #expect(throws: DataError.self) { try NPYFile.scanRows(plain, rows: [5]) { _, _, _ throws(DataError) in } }
        let scalar = folder.write(NPYHeader(descr: "<f4", fortranOrder: false, shape: []).encoded() + [0, 0, 128, 63], to: "s.npy")
        #expect(throws: DataError.self) { try NPYFile.scanRows(scalar, rows: nil) { _, _, _ throws(DataError) in } }
    }

    @Test(.enabled(if: numpyAvailable, "python3 with numpy is not available"))
    func readsNumpysPixelsAndLabelsRowByRow() throws {
        let folder = TemporaryDirectory()
        let x = folder.file("x.npy")
        let y = folder.file("y.npy")
        _ = try #require(runPython(
            "import numpy as np; np.save('\(x)', (np.arange(5 * 6) * 7 % 256).astype(np.uint8).reshape(5, 1, 2, 3)); "
                + "np.save('\(y)', np.array([3, 1, 4, 1, 5]))"))
        #expect(try NPYFile.info(x) == NPYFile.ArrayInfo(descr: "|u1", shape: [5, 1, 2, 3]))
        #expect(try NPYFile.info(y).descr == "<i8")
        var rows = [UInt8]()
        try NPYFile.scanRows(x, rows: [2]) { _, _, row throws(DataError) in rows += row }
        // Item 2 holds values 12..<18, times 7 mod 256.
        #expect(rows == (12..<18).map { UInt8($0 * 7 % 256) })
        let labels = try NPYFile.read(y, allowConversion: true)
        #expect(labels.values == [3, 1, 4, 1, 5])
    }
}
