extension NPYFile {
    /// What an NPY file holds, read from its preamble alone.
    public struct ArrayInfo: Sendable, Equatable {
        /// The dtype, e.g. `'|u1'` or `'<f4'`.
        public var descr: String
        /// The dimensions, outermost first.
        public var shape: [Int]

        /// Bytes per value.
        public var itemSize: Int { Int(descr.dropFirst(2)) ?? 1 }
        /// Items along the first dimension (1 for a scalar).
        public var rowCount: Int { shape.first ?? 1 }
        /// Values per item along the first dimension.
        public var rowValues: Int { shape.dropFirst().reduce(1, *) }
    }

    /// Reads the preamble of an NPY file (plain, or gzip-compressed) without its data.
    /// - Parameter path: The file.
    /// - Returns: The dtype and the shape.
    /// - Throws: ``DataError/Code/ioError`` when the file cannot be opened, the errors of
    ///   ``read(_:allowConversion:)`` for the preamble (any dtype of ``convertibleDescrs`` is accepted).
    public static func info(_ path: String) throws(DataError) -> ArrayInfo {
        let file = try GzipFile.open(reading: path)
        let info = try readPreamble(file, path: path)
        try file.close()
        return info
    }

    /// Reads the items at `rows` (all when `nil`) along the first dimension, in pieces of
    /// about 1 MiB, never holding the whole array.
    ///
    /// The whole data is read and checked against the shape (too short or followed by more
    /// bytes throws), unless `limit` cuts it short.
    /// - Parameters:
    ///   - path: The file (plain, or gzip-compressed).
    ///   - rows: Item indices, strictly ascending, below the (limited) first dimension; `nil` for all.
    ///   - limit: Treat the file as holding at most this many items, or `nil` for all.
    ///   - body: Called with the array's info, each wanted item's index and its raw
    ///     little-endian bytes, in ascending order.
    /// - Returns: The array's info.
    /// - Throws: ``DataError/Code/malformedFile`` for a cut or padded data section, the errors of
    ///   ``info(_:)``, ``DataError/Code/invalidArgument`` (`rows`) for bad indices, and what `body` throws.
    @discardableResult
    static func scanRows(
        _ path: String, rows: [Int]?, limit: Int? = nil,
        body: (ArrayInfo, Int, UnsafeRawBufferPointer) throws(DataError) -> Void
    ) throws(DataError) -> ArrayInfo {
        let file = try GzipFile.open(reading: path)
        let info = try readPreamble(file, path: path)
        guard !info.shape.isEmpty else {
            throw DataError(.malformedFile, "holds a scalar; expected one item per sample along the first dimension", path: path)
        }
        var (total, overflow) = info.rowCount.multipliedReportingOverflow(by: info.rowValues)
        if !overflow { (total, overflow) = total.multipliedReportingOverflow(by: info.itemSize) }
        guard !overflow, total <= IDXReader.maximumBytes else {
            throw DataError(.malformedFile, "shape \(NPYHeader.shapeLiteral(info.shape)) declares more than \(IDXReader.maximumBytes) bytes", path: path)
        }
        let rowCount = min(info.rowCount, limit ?? info.rowCount)
        if let rows { try RowStream.checkAscending(rows, below: rowCount) }
        let rowBytes = info.rowValues * info.itemSize
        if rowBytes > 0 {
            try RowStream.scan(
                file, rowBytes: rowBytes, rowCount: rowCount, wanted: rows,
                truncated: { held in
                    DataError(
                        .malformedFile,
                        "truncated: shape \(NPYHeader.shapeLiteral(info.shape)) of '\(info.descr)' needs \(total) data bytes, the file holds \(held)",
                        path: path)
                }
            ) { index, row throws(DataError) in
                try body(info, index, row)
            }
        }
        if rowCount == info.rowCount {
            var extra = [UInt8](repeating: 0, count: 4096)
            let more = try file.read(into: &extra)
            if more > 0 {
                throw DataError(
                    .malformedFile,
                    "\(more >= extra.count ? "at least " : "")\(more) bytes after the \(total) data bytes that shape \(NPYHeader.shapeLiteral(info.shape)) of '\(info.descr)' declares",
                    path: path)
            }
        }
        try file.close()
        return info
    }

    /// Converts one item's raw bytes (`count` values of `descr`) to `Float`s.
    static func floats(_ row: UnsafeRawBufferPointer, descr: String, count: Int, into output: UnsafeMutableBufferPointer<Float>) {
        convert(row, descr: descr, count: count, into: output)
    }

    private static func readPreamble(_ file: GzipFile, path: String) throws(DataError) -> ArrayInfo {
        var prefix = [UInt8](repeating: 0, count: 12)
        let got = try file.read(into: &prefix)
        let (headerStart, headerLength) = try prefix[0..<got].withUnsafeBytes { buffer in
            Result { () throws(DataError) in try preamble(buffer, path: path) }
        }.get()
        var text = Array(prefix[min(headerStart, got)..<got])
        if text.count > headerLength {
            // A version 1.0 header shorter than the two bytes already read: the data started early.
            throw DataError(.malformedFile, "the header claims \(headerLength) bytes, too few for a header dictionary", path: path)
        }
        var rest = [UInt8](repeating: 0, count: headerLength - text.count)
        let gotRest = try file.read(into: &rest)
        guard gotRest == rest.count else {
            throw DataError(.malformedFile, "the header claims \(headerLength) bytes, the file holds \(text.count + gotRest)", path: path)
        }
        text += rest
        let header = try text.withUnsafeBytes { buffer in
            Result { () throws(DataError) in try Self.header(buffer, path: path, allowConversion: true) }
        }.get()
        return ArrayInfo(descr: header.descr, shape: header.shape)
    }
}
