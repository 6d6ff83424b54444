import CZlib
import Foundation

/// A file read or written through zlib's `gz*` functions: gzip-compressed, or plain (zlib reads
/// uncompressed files transparently, and writes them with mode `"wbT"`).
///
/// Internal: the IDX reader and writer use it; it closes the handle when released.
final class GzipFile {
    /// The file's path, for error messages.
    let path: String
    private var handle: gzFile?

    private init(path: String, handle: gzFile) {
        self.path = path
        self.handle = handle
    }

    deinit {
        if let handle { gzclose(handle) }
    }

    /// Opens `path` for reading (gzip or plain).
    /// - Throws: ``DataError/Code/ioError`` when the file cannot be opened.
    static func open(reading path: String) throws(DataError) -> GzipFile {
        errno = 0
        guard let handle = gzopen(path, "rb") else {
            throw DataError(.ioError, "cannot open for reading: \(systemReason())", path: path)
        }
        gzbuffer(handle, 1 << 17)
        return GzipFile(path: path, handle: handle)
    }

    /// Creates (or truncates) `path` for writing, gzip-compressed or plain.
    /// - Throws: ``DataError/Code/ioError`` when the file cannot be created.
    static func open(writing path: String, compressed: Bool) throws(DataError) -> GzipFile {
        errno = 0
        guard let handle = gzopen(path, compressed ? "wb6" : "wbT") else {
            throw DataError(.ioError, "cannot open for writing: \(systemReason())", path: path)
        }
        return GzipFile(path: path, handle: handle)
    }

    /// Reads until `buffer` is full or the stream ends.
    /// - Returns: The number of bytes read; fewer than `buffer.count` only at the end of the data.
    /// - Throws: ``DataError/Code/malformedFile`` for a corrupt or cut compressed stream,
    ///   ``DataError/Code/ioError`` when the system read fails.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(DataError) -> Int {
        guard let handle, let base = buffer.baseAddress else { return 0 }
        var total = 0
        while total < buffer.count {
            let chunk = UInt32(min(buffer.count - total, 1 << 30))
            let got = gzread(handle, base + total, chunk)
            if got < 0 { throw streamError(handle, doing: "read") }
            if got == 0 { break }
            total += Int(got)
        }
        if total < buffer.count {
            // A short read is the end of the data, unless zlib saw the stream cut short.
            var code: Int32 = 0
            _ = gzerror(handle, &code)
            if code == Z_BUF_ERROR {
                throw DataError(.malformedFile, "truncated compressed stream (unexpected end of file)", path: path)
            }
            if code != Z_OK { throw streamError(handle, doing: "read") }
        }
        return total
    }

    /// Fills `array` from the stream, like the buffer-pointer overload.
    /// - Returns: The number of bytes read.
    func read(into array: inout [UInt8]) throws(DataError) -> Int {
        let result = array.withUnsafeMutableBytes { buffer in
            Result { () throws(DataError) -> Int in try read(into: buffer) }
        }
        return try result.get()
    }

    /// Writes all of `array`.
    func write(_ array: [UInt8]) throws(DataError) {
        let result = array.withUnsafeBytes { buffer in
            Result { () throws(DataError) in try write(buffer) }
        }
        try result.get()
    }

    /// Writes all of `bytes`.
    /// - Throws: ``DataError/Code/ioError`` when zlib or the system refuses.
    func write(_ bytes: UnsafeRawBufferPointer) throws(DataError) {
        guard let handle, let base = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            let chunk = UInt32(min(bytes.count - done, 1 << 30))
            let wrote = gzwrite(handle, base + done, chunk)
            if wrote <= 0 { throw streamError(handle, doing: "write") }
            done += Int(wrote)
        }
    }

    /// Flushes and closes the file; later reads and writes do nothing.
    /// - Throws: ``DataError/Code/ioError`` when the final flush fails.
    func close() throws(DataError) {
        guard let handle else { return }
        self.handle = nil
        let status = gzclose(handle)
        if status != Z_OK && status != Z_BUF_ERROR {
            throw DataError(.ioError, "closing failed (zlib status \(status))", path: path)
        }
    }

    private func streamError(_ handle: gzFile, doing action: String) -> DataError {
        var code: Int32 = 0
        let text = gzerror(handle, &code).map { String(cString: $0) } ?? "unknown zlib error"
        switch code {
        case Z_ERRNO:
            return DataError(.ioError, "\(action) failed: \(systemReason())", path: path)
        case Z_DATA_ERROR, Z_BUF_ERROR:
            return DataError(.malformedFile, "corrupt compressed stream: \(text)", path: path)
        default:
            return DataError(.ioError, "\(action) failed: \(text)", path: path)
        }
    }
}

/// The text of the current `errno`, or a generic reason when it is 0.
func systemReason() -> String {
    let code = errno
    guard code != 0 else { return "unknown system error" }
    return String(cString: strerror(code))
}
