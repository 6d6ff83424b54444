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

        var readError: DataError?
        let bytes = [UInt8](unsafeUninitializedCapacity: expected) { buffer, initialized in
            do throws(DataError) {
                let got = try file.read(into: UnsafeMutableRawBufferPointer(buffer))
                if got < expected {
                    readError = DataError(
                        .malformedFile,
                        "truncated: dimensions \(dimensions) need \(declared) data bytes, the file holds \(got)",
                        path: path)
                }
                initialized = got
            } catch {
                readError = error
                initialized = 0
            }
        }
        if let readError { throw readError }

        if expected == declared {
            // The whole array was read: anything after it means the header lies. Reading past
            // the end also makes zlib check the gzip trailer (CRC and length).
            var extra = [UInt8](repeating: 0, count: 4096)
            let more = try file.read(into: &extra)
            if more > 0 {
                throw DataError(
                    .malformedFile,
                    "\(more >= extra.count ? "at least " : "")\(more) bytes after the \(declared) data bytes that dimensions \(dimensions) declare",
                    path: path)
            }
        }
        try file.close()
        return IDXArray(dimensions: wanted, bytes: bytes)
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
