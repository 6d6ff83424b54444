import Foundation
import Testing

@testable import FedArenaData

@Suite struct IDXReaderTests {
    /// A 5 x 2 x 3 array whose bytes do not compress to nothing.
    let sample = IDXArray(dimensions: [5, 2, 3], bytes: (0..<30).map { UInt8(($0 * 37 + 11) % 256) })

    /// Writes `bytes` gzip-compressed (no IDX checks) through the same zlib wrapper.
    func writeGzip(_ bytes: [UInt8], to path: String) throws {
        let file = try GzipFile.open(writing: path, compressed: true)
        try file.write(bytes)
        try file.close()
    }

    func readError(_ path: String, limit: Int? = nil) -> DataError? {
        do {
            _ = try IDXReader.read(path, limit: limit)
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: [true, false])
    func roundTripsCompressedAndPlain(compressed: Bool) throws {
        let folder = TemporaryDirectory()
        let path = folder.file("sample-idx3-ubyte" + (compressed ? ".gz" : ""))
        try IDXWriter.write(sample, to: path, compressed: compressed)
        let onDisk = folder.read(path.components(separatedBy: "/").last!)
        if compressed {
            #expect(Array(onDisk.prefix(2)) == [0x1F, 0x8B])
        } else {
            #expect(onDisk == idxHeader([5, 2, 3]) + sample.bytes)
        }
        let back = try IDXReader.read(path)
        #expect(back == sample)
        #expect(back.itemCount == 5)
        #expect(back.itemSize == 6)
    }

    @Test func limitReadsTheFirstItemsOnly() throws {
        let folder = TemporaryDirectory()
        let path = folder.file("sample.gz")
        try IDXWriter.write(sample, to: path)
        let firstTwo = try IDXReader.read(path, limit: 2)
        #expect(firstTwo.dimensions == [2, 2, 3])
        #expect(firstTwo.bytes == Array(sample.bytes.prefix(12)))
        #expect(try IDXReader.read(path, limit: 0).bytes.isEmpty)
        #expect(try IDXReader.read(path, limit: 99) == sample)
        #expect(readError(path, limit: -1)?.code == .invalidArgument)
    }

    @Test func readRowsKeepsOnlyTheWantedItems() throws {
        let folder = TemporaryDirectory()
        let path = folder.file("sample.gz")
        try IDXWriter.write(sample, to: path)
        let (items, fileItems) = try IDXReader.readRows(path, rows: [0, 3, 4])
        #expect(fileItems == 5)
        #expect(items.dimensions == [3, 2, 3])
        // Items 0, 3 and 4 are bytes 0..<6, 18..<24 and 24..<30 of the sample.
        #expect(items.bytes == Array(sample.bytes[0..<6]) + Array(sample.bytes[18..<30]))
        #expect(try IDXReader.readRows(path, rows: []).items.bytes.isEmpty)
        #expect(try IDXReader.readRows(path, rows: [1], limit: 2).fileItemCount == 2)
        for rows in [[3, 1], [2, 2], [5], [-1]] {
            #expect(throws: DataError.self) { try IDXReader.readRows(path, rows: rows) }
        }
        #expect(throws: DataError.self) { try IDXReader.readRows(path, rows: [2], limit: 2) }
        // A file cut short is refused even when the wanted items come before the cut.
        try writeGzip(idxHeader([10, 3]) + [UInt8](repeating: 1, count: 29), to: folder.file("short.gz"))
        #expect(throws: DataError.self) { try IDXReader.readRows(folder.file("short.gz"), rows: [0]) }
    }

    /// Items spread over several 1 MiB pieces come back whole.
    @Test func readRowsCrossesPieceBoundaries() throws {
        let folder = TemporaryDirectory()
        let rowBytes = 300_001  // 3 rows a piece, the piece boundary falls between rows 2 and 3
        let count = 8
        let bytes = (0..<(count * rowBytes)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 11) }
        let path = folder.file("big")
        try IDXWriter.write(IDXArray(dimensions: [count, rowBytes], bytes: bytes), to: path, compressed: false)
        let rows = [1, 2, 3, 7]
        let (items, _) = try IDXReader.readRows(path, rows: rows)
        #expect(items.bytes == rows.flatMap { bytes[($0 * rowBytes)..<(($0 + 1) * rowBytes)] })
    }

    @Test func floatsAreBytesOver255() {
        let array = IDXArray(dimensions: [4], bytes: [0, 51, 128, 255])
        let values = array.floats()
        #expect(values == [0, Float(51) / 255, Float(128) / 255, 1])
        #expect(values[1] == 0.2)
        #expect(array.floats(dividedBy: 2) == [0, 25.5, 64, 127.5])
    }

    @Test func readFloatsMatchesReadThenConvert() throws {
        let folder = TemporaryDirectory()
        // Larger than one 256 KiB piece, with a tail.
        let big = IDXArray(dimensions: [700, 20, 20], bytes: (0..<280_000).map { UInt8(($0 * 31 + $0 / 977) % 256) })
        let path = folder.file("big.gz")
        try IDXWriter.write(big, to: path)
        let floats = try IDXReader.readFloats(path)
        #expect(floats.dimensions == [700, 20, 20])
        #expect(floats.values == big.floats())
        #expect(floats.values[1] == Float(31) / 255)
        let limited = try IDXReader.readFloats(path, limit: 3, dividedBy: 1)
        #expect(limited.dimensions == [3, 20, 20])
        #expect(limited.values == big.bytes.prefix(1_200).map { Float($0) })

        let short = folder.file("short.gz")
        let whole = folder.read("big.gz")
        folder.write(Array(whole.prefix(whole.count - 40)), to: "short.gz")
        do {
            _ = try IDXReader.readFloats(short)
            Issue.record("read a cut file")
        } catch {
            #expect(error.code == .malformedFile)
        }
        let padded = folder.write(idxHeader([2]) + [1, 2, 3], to: "padded")
        #expect(throws: DataError.self) { try IDXReader.readFloats(padded) }
        let tooFew = folder.write(idxHeader([4]) + [1, 2, 3], to: "few")
        do {
            _ = try IDXReader.readFloats(tooFew)
            Issue.record("read a short file")
        } catch {
            #expect(error.message == "truncated: dimensions [4] need 4 data bytes, the file holds 3")
        }
    }

    @Test func truncatedCompressedStreamIsAnError() throws {
        let folder = TemporaryDirectory()
        let big = IDXArray(dimensions: [1000], bytes: (0..<1000).map { UInt8(($0 * $0 + 7 * $0) % 251) })
        try IDXWriter.write(big, to: folder.file("full.gz"))
        let full = folder.read("full.gz")
        let cut = folder.write(Array(full.prefix(full.count / 2)), to: "cut.gz")
        let error = try #require(readError(cut))
        #expect(error.code == .malformedFile)
        #expect(error.path == cut)
        #expect(error.description.hasPrefix(cut + ": malformed file: "))
        // Only the 8-byte trailer (CRC and length) missing: the data is all there, the stream is not.
        let noTrailer = folder.write(Array(full.dropLast(8)), to: "no-trailer.gz")
        #expect(readError(noTrailer)?.code == .malformedFile)
        #expect(readError(noTrailer)?.message.contains("truncated") == true)
    }

    @Test func corruptCompressedStreamIsAnError() throws {
        let folder = TemporaryDirectory()
        let big = IDXArray(dimensions: [1000], bytes: (0..<1000).map { UInt8(($0 * $0 + 7 * $0) % 251) })
        try IDXWriter.write(big, to: folder.file("full.gz"))
        var bytes = folder.read("full.gz")
        for index in stride(from: 20, to: bytes.count - 20, by: 7) { bytes[index] ^= 0x5A }
        let corrupt = folder.write(bytes, to: "corrupt.gz")
        #expect(readError(corrupt)?.code == .malformedFile)
        // A wrong CRC in an otherwise intact stream.
        var badCRC = folder.read("full.gz")
        badCRC[badCRC.count - 8] ^= 0xFF
        let crc = folder.write(badCRC, to: "crc.gz")
        let error = try #require(readError(crc))
        #expect(error.code == .malformedFile)
        #expect(error.message.contains("corrupt compressed stream"))
    }

    @Test func tooFewDataBytes() throws {
        let folder = TemporaryDirectory()
        let path = folder.file("short.gz")
        try writeGzip(idxHeader([10, 3]) + [UInt8](repeating: 1, count: 29), to: path)
        let error = try #require(readError(path))
        #expect(error.code == .malformedFile)
        #expect(error.message == "truncated: dimensions [10, 3] need 30 data bytes, the file holds 29")
        // A limit that stays inside the data still reads.
        #expect(try IDXReader.read(path, limit: 9).bytes.count == 27)
    }

    @Test func trailingDataIsAnError() throws {
        let folder = TemporaryDirectory()
        let plain = folder.write(idxHeader([4]) + [1, 2, 3, 4, 5, 6], to: "long")
        let error = try #require(readError(plain))
        #expect(error.code == .malformedFile)
        #expect(error.message == "2 bytes after the 4 data bytes that dimensions [4] declare")
        let gz = folder.file("long.gz")
        try writeGzip(idxHeader([4]) + [1, 2, 3, 4, 5], to: gz)
        #expect(readError(gz)?.code == .malformedFile)
    }

    @Test func badHeaders() throws {
        let folder = TemporaryDirectory()
        let cases: [(name: String, bytes: [UInt8], code: DataError.Code, message: String)] = [
            ("empty", [], .malformedFile, "0 bytes is too short for an IDX header (4-byte magic)"),
            ("short", [0, 0], .malformedFile, "2 bytes is too short for an IDX header (4-byte magic)"),
            (
                "magic", [0x50, 0x4B, 3, 4, 0, 0, 0, 0], .malformedFile,
                "bad magic 504B0304: an IDX file starts with two zero bytes, the type and the rank"
            ),
            (
                "float", idxHeader([1], type: 0x0D) + [0, 0, 0, 0], .unsupportedFormat,
                "element type 0x0D (float32) is not supported; only 0x08 (unsigned byte)"
            ),
            ("unknown", idxHeader([1], type: 0x42) + [0], .malformedFile, "unknown IDX element type 0x42"),
            ("rank0", [0, 0, 8, 0], .malformedFile, "rank 0: an IDX array needs a dimension"),
            (
                "dims", [0, 0, 8, 3, 0, 0, 0, 2, 0, 0], .malformedFile,
                "truncated header: rank 3 needs 12 dimension bytes, got 6"
            ),
            (
                "huge", idxHeader([0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF]), .malformedFile,
                "dimensions [4294967295, 4294967295, 4294967295] declare more than 17179869184 bytes; the header is corrupt"
            ),
        ]
        for item in cases {
            let path = folder.write(item.bytes, to: item.name)
            let error = readError(path)
            #expect(error?.code == item.code, "\(item.name)")
            #expect(error?.message == item.message, "\(item.name)")
            #expect(error?.path == path, "\(item.name)")
        }
    }

    @Test func missingFileIsAnIOError() throws {
        let error = try #require(readError("/nonexistent/fedarena/train-images-idx3-ubyte.gz"))
        #expect(error.code == .ioError)
        #expect(
            error.description
                == "/nonexistent/fedarena/train-images-idx3-ubyte.gz: I/O error: cannot open for reading: No such file or directory")
    }

    @Test func writerRejectsWhatIDXCannotHold() throws {
        let folder = TemporaryDirectory()
        let tooMany = IDXArray(dimensions: [Int](repeating: 1, count: 256), bytes: [7])
        #expect(throws: DataError.self) { try IDXWriter.write(tooMany, to: folder.file("x")) }
        let unwritable = IDXArray(dimensions: [1], bytes: [7])
        do {
            try IDXWriter.write(unwritable, to: "/nonexistent/fedarena/x.gz")
            Issue.record("writing into a missing folder succeeded")
        } catch {
            #expect(error.code == .ioError)
        }
    }
}
