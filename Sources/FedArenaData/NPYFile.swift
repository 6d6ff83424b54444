import Foundation

/// Reads and writes NumPy `.npy` files (the NPY format, NEP 1) holding float32 arrays, so numpy
/// and pandas read FedArena's outputs (`model-final.npy`) without FedArena.
///
/// Writing produces exactly numpy 2.x's bytes for `np.save(path, a.astype('<f4'))`: format
/// version 1.0, `descr` `'<f4'`, `fortran_order` `False` (C order), the shape as Python writes
/// a tuple (`(3,)`, `(2, 3)`, `()`), numpy's spare spaces, and padding so the data starts at a
/// multiple of 64 bytes. Reading accepts versions 1.0 and 2.0 and checks the magic, the header,
/// the dtype, the order and that the data is exactly as long as the shape says.
public enum NPYFile {
    /// The dtypes ``read(_:allowConversion:)`` converts to `Float` when asked (`'<f4'` is always read).
    public static let convertibleDescrs = ["<f4", "<f8", "<i8", "<i4", "<i2", "|i1", "|u1", "<u1", "<u2", "<u4", "<u8", "|b1"]

    /// The NPY bytes for `values` with `shape` (C order).
    /// - Parameters:
    ///   - values: The array's values in row-major order.
    ///   - shape: The dimensions; their product must be `values.count` (`[]` for a scalar).
    /// - Returns: Header and little-endian float32 data.
    /// - Throws: ``DataError/Code/invalidArgument`` (`shape`) when the shape and the count disagree.
    public static func encode(_ values: [Float], shape: [Int]) throws(DataError) -> [UInt8] {
        try checkShape(shape, count: values.count)
        var bytes = NPYHeader(descr: "<f4", fortranOrder: false, shape: shape).encoded()
        bytes.reserveCapacity(bytes.count + 4 * values.count)
        #if _endian(little)
            values.withUnsafeBytes { bytes.append(contentsOf: $0) }
        #else
            for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        #endif
        return bytes
    }

    /// Writes `values` with `shape` to `path` as a float32 NPY file (replacing any file there, atomically).
    /// - Parameters:
    ///   - values: The array's values in row-major order.
    ///   - shape: The dimensions; their product must be `values.count`.
    ///   - path: The file to write.
    /// - Throws: ``DataError/Code/invalidArgument`` (`shape`), ``DataError/Code/ioError`` when the file cannot be written.
    public static func write(_ values: [Float], shape: [Int], to path: String) throws(DataError) {
        let bytes = try encode(values, shape: shape)
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw DataError(.ioError, "cannot write: \(error.localizedDescription)", path: path)
        }
    }

    /// Reads a float32 NPY file.
    /// - Parameters:
    ///   - path: The `.npy` file.
    ///   - allowConversion: Also read the dtypes in ``convertibleDescrs`` (`'<f8'`, `'<i8'`,
    ///     `'|u1'`, ...), converting each value to the nearest `Float`; by default only `'<f4'` is accepted.
    /// - Returns: The values in row-major order and the shape (`[]` for a scalar).
    /// - Throws: ``DataError/Code/ioError`` when the file cannot be read, ``DataError/Code/malformedFile``
    ///   for a bad magic, a bad header or a data length that does not match the shape,
    ///   ``DataError/Code/unsupportedFormat`` for another version, dtype or Fortran order.
    public static func read(_ path: String, allowConversion: Bool = false) throws(DataError) -> (values: [Float], shape: [Int]) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw DataError(.ioError, "cannot read: \(error.localizedDescription)", path: path)
        }
        let result = data.withUnsafeBytes { buffer in
            Result { () throws(DataError) -> (values: [Float], shape: [Int]) in
                try decode(buffer, path: path, allowConversion: allowConversion)
            }
        }
        return try result.get()
    }

    /// Decodes NPY bytes (see ``read(_:allowConversion:)``).
    /// - Parameters:
    ///   - bytes: A whole NPY file.
    ///   - allowConversion: Also accept the dtypes in ``convertibleDescrs``.
    /// - Returns: The values and the shape.
    /// - Throws: As ``read(_:allowConversion:)``, without a path.
    public static func decode(_ bytes: [UInt8], allowConversion: Bool = false) throws(DataError) -> (values: [Float], shape: [Int]) {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(DataError) -> (values: [Float], shape: [Int]) in
                try decode(buffer, path: nil, allowConversion: allowConversion)
            }
        }
        return try result.get()
    }

    // MARK: - Internals

    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    private static func checkShape(_ shape: [Int], count: Int) throws(DataError) {
        var product = 1
        for dimension in shape {
            guard dimension >= 0 else { throw DataError.invalidArgument("shape", "dimension \(dimension) is negative") }
            let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw DataError.invalidArgument("shape", "\(shape) overflows") }
            product = next
        }
        guard product == count else {
            throw DataError.invalidArgument("shape", "\(shape) holds \(product) values, got \(count)")
        }
    }

    /// Reads the fixed part of a preamble: checks the magic and the version.
    /// - Parameters:
    ///   - bytes: At least the file's first 12 bytes (or the whole file if shorter).
    ///   - path: The file, for errors.
    /// - Returns: Where the header text starts and how long it is.
    /// - Throws: ``DataError/Code/malformedFile`` for a bad magic or a cut preamble,
    ///   ``DataError/Code/unsupportedFormat`` for a version other than 1.0 and 2.0.
    static func preamble(_ bytes: UnsafeRawBufferPointer, path: String?) throws(DataError) -> (headerStart: Int, headerLength: Int) {
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw DataError(.malformedFile, "not an NPY file: it does not start with \\x93NUMPY", path: path)
        }
        let major = bytes[6]
        let minor = bytes[7]
        guard (major == 1 || major == 2), minor == 0 else {
            throw DataError(.unsupportedFormat, "NPY format version \(major).\(minor); only 1.0 and 2.0 are read", path: path)
        }
        let lengthSize = major == 1 ? 2 : 4
        guard bytes.count >= 8 + lengthSize else { throw DataError(.malformedFile, "truncated preamble", path: path) }
        let headerLength = (0..<lengthSize).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
        return (8 + lengthSize, headerLength)
    }

    /// Parses the header text and checks the order (C) and, unless `anyDescr`, the dtype.
    /// - Parameters:
    ///   - text: The header's bytes.
    ///   - path: The file, for errors.
    ///   - allowConversion: Also accept the dtypes in ``convertibleDescrs``.
    /// - Returns: The header.
    /// - Throws: ``DataError/Code/malformedFile`` for a header that is not ASCII or not a valid
    ///   dictionary, ``DataError/Code/unsupportedFormat`` for Fortran order or another dtype.
    static func header(_ text: UnsafeRawBufferPointer, path: String?, allowConversion: Bool) throws(DataError) -> NPYHeader {
        guard let string = String(validating: text, as: Unicode.ASCII.self) else {
            throw DataError(.malformedFile, "the header is not ASCII", path: path)
        }
        let header: NPYHeader
        do throws(NPYHeaderParseError) {
            header = try NPYHeader.parse(string)
        } catch {
            throw DataError(
                .malformedFile, "bad header \(string.trimmingCharacters(in: .whitespacesAndNewlines)): \(error.reason)", path: path)
        }
        guard !header.fortranOrder else {
            throw DataError(.unsupportedFormat, "fortran_order is True; only C order is read", path: path)
        }
        guard header.descr == "<f4" || (allowConversion && convertibleDescrs.contains(header.descr)) else {
            let hint = convertibleDescrs.contains(header.descr) ? " (pass allowConversion: true to convert it)" : ""
            throw DataError(
                .unsupportedFormat, "dtype '\(header.descr)' is not '<f4' (little-endian float32)\(hint)", path: path)
        }
        return header
    }

    private static func decode(
        _ bytes: UnsafeRawBufferPointer, path: String?, allowConversion: Bool
    ) throws(DataError) -> (values: [Float], shape: [Int]) {
        func malformed(_ reason: String) -> DataError { DataError(.malformedFile, reason, path: path) }
        let (headerStart, headerLength) = try preamble(bytes, path: path)
        let dataStart = headerStart + headerLength
        guard dataStart <= bytes.count else {
            throw malformed("the header claims \(headerLength) bytes, the file holds \(bytes.count - headerStart)")
        }
        let header = try Self.header(
            UnsafeRawBufferPointer(rebasing: bytes[headerStart..<dataStart]), path: path, allowConversion: allowConversion)
        let itemSize = Int(header.descr.dropFirst(2))!
        var count = 1
        for dimension in header.shape {
            let (next, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw malformed("shape \(header.shape) overflows") }
            count = next
        }
        let (needed, overflow) = count.multipliedReportingOverflow(by: itemSize)
        let available = bytes.count - dataStart
        guard !overflow, needed == available else {
            throw malformed(
                "shape \(NPYHeader.shapeLiteral(header.shape)) of '\(header.descr)' needs \(needed) data bytes, the file holds \(available)")
        }
        let data = UnsafeRawBufferPointer(rebasing: bytes[dataStart...])
        let values = [Float](unsafeUninitializedCapacity: count) { output, initialized in
            convert(data, descr: header.descr, count: count, into: output)
            initialized = count
        }
        return (values, header.shape)
    }

    /// Converts `count` little-endian values of dtype `descr` to `Float`.
    static func convert(
        _ data: UnsafeRawBufferPointer, descr: String, count: Int, into output: UnsafeMutableBufferPointer<Float>
    ) {
        func load<T: FixedWidthInteger>(_: T.Type, _ index: Int) -> T {
            T(littleEndian: data.loadUnaligned(fromByteOffset: index * MemoryLayout<T>.size, as: T.self))
        }
        switch descr {
        case "<f4":
            #if _endian(little)
                if count > 0 { UnsafeMutableRawBufferPointer(output).copyMemory(from: UnsafeRawBufferPointer(rebasing: data[0..<(4 * count)])) }
            #else
                for index in 0..<count { output[index] = Float(bitPattern: load(UInt32.self, index)) }
            #endif
        case "<f8":
            for index in 0..<count { output[index] = Float(Double(bitPattern: load(UInt64.self, index))) }
        case "<i8":
            for index in 0..<count { output[index] = Float(load(Int64.self, index)) }
        case "<i4":
            for index in 0..<count { output[index] = Float(load(Int32.self, index)) }
        case "<i2":
            for index in 0..<count { output[index] = Float(load(Int16.self, index)) }
        case "|i1":
            for index in 0..<count { output[index] = Float(load(Int8.self, index)) }
        case "<u2":
            for index in 0..<count { output[index] = Float(load(UInt16.self, index)) }
        case "<u4":
            for index in 0..<count { output[index] = Float(load(UInt32.self, index)) }
        case "<u8":
            for index in 0..<count { output[index] = Float(load(UInt64.self, index)) }
        case "|b1":
            for index in 0..<count { output[index] = data[index] == 0 ? 0 : 1 }
        default:  // "|u1", "<u1"
            for index in 0..<count { output[index] = Float(data[index]) }
        }
    }
}
