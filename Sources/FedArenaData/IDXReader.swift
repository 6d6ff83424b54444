/// Reads IDX files (LeCun et al., "Gradient-based learning applied to document recognition",
/// 1998; the format of MNIST and Fashion-MNIST) in place through zlib, gzip-compressed or plain.
///
/// The format: two zero bytes, an element-type byte (`0x08` = unsigned byte, the only type
/// accepted here), the number of dimensions, each dimension as a big-endian `UInt32`, then the
/// values in row-major order. The reader checks every one of these and that the data is exactly
/// as long as the dimensions say; a truncated, corrupt or padded file throws, it never crashes.
public enum IDXReader {
    /// Reads the IDX file at `path`.
    ///
    /// With a `limit`, only the first `limit` items along the first dimension are decompressed
    /// (quick tests); then bytes after them, and so the gzip checksum, are not verified.
    /// - Parameters:
    ///   - path: A `.gz` or plain IDX file.
    ///   - limit: Read at most this many items along the first dimension, or `nil` for all.
    /// - Returns: The dimensions (the first one cut to `limit`) and the bytes.
    /// - Throws: ``DataError/Code/ioError`` when the file cannot be opened or read;
    ///   ``DataError/Code/malformedFile`` for a bad magic, a cut header, too few or too many data
    ///   bytes, or a corrupt compressed stream; ``DataError/Code/unsupportedFormat`` for an
    ///   element type other than unsigned byte; ``DataError/Code/invalidArgument`` for a negative `limit`.
    public static func read(_ path: String, limit: Int? = nil) throws(DataError) -> IDXArray {
        let (file, plan) = try open(path, limit: limit)
        var readError: DataError?
        let bytes = [UInt8](unsafeUninitializedCapacity: plan.expected) { buffer, initialized in
            do throws(DataError) {
                let got = try file.read(into: UnsafeMutableRawBufferPointer(buffer))
                if got < plan.expected { readError = plan.truncated(holding: got, path: path) }
                initialized = got
            } catch {
                readError = error
                initialized = 0
            }
        }
        if let readError { throw readError }
        try finish(file, plan, path: path)
        return IDXArray(dimensions: plan.wanted, bytes: bytes)
    }

    /// Reads the IDX file at `path` straight into `Float`s, each byte divided by `divisor`.
    ///
    /// The same checks as ``read(_:limit:)``, but the data is inflated in 256 KiB pieces and
    /// converted while each piece is in cache, so the bytes are never held whole: the fast path
    /// for images (`Float(byte) / 255`, bit-identical to numpy's `x.astype(np.float32) / np.float32(255)`).
    /// - Parameters:
    ///   - path: A `.gz` or plain IDX file of unsigned bytes.
    ///   - limit: Read at most this many items along the first dimension, or `nil` for all.
    ///   - divisor: The value every byte is divided by.
    /// - Returns: The dimensions (the first one cut to `limit`) and the values, row-major.
    /// - Throws: As ``read(_:limit:)``.
    public static func readFloats(
        _ path: String, limit: Int? = nil, dividedBy divisor: Float = 255
    ) throws(DataError) -> (dimensions: [Int], values: [Float]) {
        let (file, plan) = try open(path, limit: limit)
        let chunk = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 1 << 18)
        defer { chunk.deallocate() }
        var readError: DataError?
        let values = [Float](unsafeUninitializedCapacity: plan.expected) { output, initialized in
            var done = 0
            do throws(DataError) {
                while done < plan.expected {
                    let want = min(chunk.count, plan.expected - done)
                    let got = try file.read(into: UnsafeMutableRawBufferPointer(start: chunk.baseAddress, count: want))
                    for index in 0..<got { output[done + index] = Float(chunk[index]) / divisor }
                    done += got
                    if got < want {
                        readError = plan.truncated(holding: done, path: path)
                        break
                    }
                }
            } catch {
                readError = error
            }
            initialized = done
        }
        if let readError { throw readError }
        try finish(file, plan, path: path)
        return (plan.wanted, values)
    }

    /// Reads only the items at `rows` along the first dimension (a client process's samples).
    ///
    /// The same checks as ``read(_:limit:)``: the data is inflated in 1 MiB pieces and only the
    /// wanted items are kept, so memory holds the result and one piece, never the whole file.
    /// - Parameters:
    ///   - path: A `.gz` or plain IDX file of unsigned bytes.
    ///   - rows: Item indices, strictly ascending, below the (limited) first dimension.
    ///   - limit: Treat the file as holding at most this many items, or `nil` for all.
    /// - Returns: The items (dimensions with `rows.count` first, their bytes in order) and the
    ///   number of items the (limited) file holds.
    /// - Throws: As ``read(_:limit:)``, and ``DataError/Code/invalidArgument`` (`rows`) for
    ///   indices out of order or out of range.
    public static func readRows(
        _ path: String, rows: [Int], limit: Int? = nil
    ) throws(DataError) -> (items: IDXArray, fileItemCount: Int) {
        let (file, plan) = try open(path, limit: limit)
        try RowStream.checkAscending(rows, below: plan.wanted[0])
        let rowBytes = plan.wanted.dropFirst().reduce(1, *)
        var bytes = [UInt8]()
        if rowBytes > 0 {
            bytes.reserveCapacity(rows.count * rowBytes)
            try RowStream.scan(
                file, rowBytes: rowBytes, rowCount: plan.wanted[0], wanted: rows,
                truncated: { plan.truncated(holding: $0, path: path) }
            ) { _, row throws(DataError) in
                bytes.append(contentsOf: row)
            }
        }
        try finish(file, plan, path: path)
        return (IDXArray(dimensions: [rows.count] + plan.wanted.dropFirst(), bytes: bytes), plan.wanted[0])
    }

    /// What a read will take from a file, from its header and the limit.
    private struct Plan {
        /// The dimensions in the header.
        var dimensions: [Int]
        /// The dimensions returned (the first cut to the limit).
        var wanted: [Int]
        /// The data bytes the header declares.
        var declared: Int
        /// The data bytes to read.
        var expected: Int

        func truncated(holding got: Int, path: String) -> DataError {
            DataError(
                .malformedFile, "truncated: dimensions \(dimensions) need \(declared) data bytes, the file holds \(got)",
                path: path)
        }
    }

    /// Opens the file, reads and checks its header, and plans the read.
    private static func open(_ path: String, limit: Int?) throws(DataError) -> (GzipFile, Plan) {
        if let limit, limit < 0 { throw DataError.invalidArgument("limit", "must be non-negative, got \(limit)") }
        let file = try GzipFile.open(reading: path)
        let dimensions = try readHeader(file)
        var wanted = dimensions
        if let limit, limit < dimensions[0] { wanted[0] = limit }
        let (declared, declaredOverflow) = product(dimensions)
        let (expected, overflow) = product(wanted)
        if overflow || declaredOverflow || expected > maximumBytes {
            throw DataError(
                .malformedFile, "dimensions \(dimensions) declare more than \(maximumBytes) bytes; the header is corrupt",
                path: path)
        }
        return (file, Plan(dimensions: dimensions, wanted: wanted, declared: declared, expected: expected))
    }

    /// After the data: when the whole array was read, checks nothing follows it (reading past
    /// the end also makes zlib check the gzip trailer, CRC and length); then closes the file.
    private static func finish(_ file: GzipFile, _ plan: Plan, path: String) throws(DataError) {
        if plan.expected == plan.declared {
            var extra = [UInt8](repeating: 0, count: 4096)
            let more = try file.read(into: &extra)
            if more > 0 {
                throw DataError(
                    .malformedFile,
                    "\(more >= extra.count ? "at least " : "")\(more) bytes after the \(plan.declared) data bytes that dimensions \(plan.dimensions) declare",
                    path: path)
            }
        }
        try file.close()
    }

    /// The largest array this reader will allocate (16 GiB): a bigger claim is a corrupt header.
    static let maximumBytes = 1 << 34

    /// Reads and checks the magic and the dimensions.
    private static func readHeader(_ file: GzipFile) throws(DataError) -> [Int] {
        var magic = [UInt8](repeating: 0, count: 4)
        let got = try file.read(into: &magic)
        guard got == 4 else {
            throw DataError(.malformedFile, "\(got) bytes is too short for an IDX header (4-byte magic)", path: file.path)
        }
        guard magic[0] == 0, magic[1] == 0 else {
            throw DataError(
                .malformedFile,
                "bad magic \(hex(magic)): an IDX file starts with two zero bytes, the type and the rank",
                path: file.path)
        }
        guard magic[2] == 0x08 else {
            if let name = elementTypeNames[magic[2]] {
                throw DataError(
                    .unsupportedFormat,
                    "element type 0x\(hex([magic[2]])) (\(name)) is not supported; only 0x08 (unsigned byte)",
                    path: file.path)
            }
            throw DataError(.malformedFile, "unknown IDX element type 0x\(hex([magic[2]]))", path: file.path)
        }
        let rank = Int(magic[3])
        guard rank > 0 else { throw DataError(.malformedFile, "rank 0: an IDX array needs a dimension", path: file.path) }

        var raw = [UInt8](repeating: 0, count: 4 * rank)
        let gotDims = try file.read(into: &raw)
        guard gotDims == raw.count else {
            throw DataError(
                .malformedFile, "truncated header: rank \(rank) needs \(raw.count) dimension bytes, got \(gotDims)",
                path: file.path)
        }
        return (0..<rank).map { axis in
            raw[(4 * axis)..<(4 * axis + 4)].reduce(0) { ($0 << 8) | Int($1) }
        }
    }

    private static func product(_ dimensions: [Int]) -> (Int, overflow: Bool) {
        var total = 1
        for dimension in dimensions {
            let (next, overflow) = total.multipliedReportingOverflow(by: dimension)
            if overflow { return (0, true) }
            total = next
        }
        return (total, false)
    }

    private static let elementTypeNames: [UInt8: String] = [
        0x09: "signed byte", 0x0B: "int16", 0x0C: "int32", 0x0D: "float32", 0x0E: "float64",
    ]

    private static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789ABCDEF")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
    }
}
