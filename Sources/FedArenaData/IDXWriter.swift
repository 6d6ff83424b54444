/// Writes unsigned-byte IDX files, gzip-compressed or plain: fixtures for tests, small
/// datasets for examples. ``IDXReader`` reads what it writes.
public enum IDXWriter {
    /// Writes `array` to `path` (replacing any file there).
    /// - Parameters:
    ///   - array: The dimensions and bytes; every dimension must fit in a `UInt32` and there are at most 255.
    ///   - path: The file to create.
    ///   - compressed: `true` for gzip (the `.gz` files of the datasets), `false` for a plain IDX file.
    /// - Throws: ``DataError/Code/invalidArgument`` for a dimension or rank the format cannot hold,
    ///   ``DataError/Code/ioError`` when the file cannot be written.
    public static func write(_ array: IDXArray, to path: String, compressed: Bool = true) throws(DataError) {
        guard array.dimensions.count <= 255 else {
            throw DataError.invalidArgument("dimensions", "IDX holds at most 255 dimensions, got \(array.dimensions.count)")
        }
        var header: [UInt8] = [0, 0, 0x08, UInt8(array.dimensions.count)]
        for dimension in array.dimensions {
            guard dimension <= Int(UInt32.max) else {
                throw DataError.invalidArgument("dimensions", "\(dimension) does not fit the 32-bit IDX size field")
            }
            let value = UInt32(dimension)
            header += [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
        }
        let file = try GzipFile.open(writing: path, compressed: compressed)
        try file.write(header)
        try file.write(array.bytes)
        try file.close()
    }
}
