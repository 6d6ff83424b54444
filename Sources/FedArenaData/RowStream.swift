/// Reads fixed-size rows from an open file in pieces of about 1 MiB and hands over the wanted
/// ones, so a process keeps only the rows it needs and never the whole array.
///
/// Internal to the IDX and NPY readers: the file is positioned at the first row.
enum RowStream {
    /// The bytes read per piece (at least one row).
    static let pieceBytes = 1 << 20

    /// Reads `rowCount` rows of `rowBytes` bytes each and calls `body` for each wanted one.
    /// - Parameters:
    ///   - file: The open file, positioned at the first row.
    ///   - rowBytes: Bytes per row, at least 1.
    ///   - rowCount: Rows to read.
    ///   - wanted: Row indices, strictly ascending and below `rowCount`, or `nil` for every row.
    ///   - truncated: The error for a file that ends early, given the data bytes it held.
    ///   - body: Called with the row index and its bytes, in ascending order.
    /// - Throws: `truncated(...)` when the file ends before `rowCount` rows, the file's read
    ///   errors, and whatever `body` throws.
    static func scan(
        _ file: GzipFile, rowBytes: Int, rowCount: Int, wanted: [Int]?, truncated: (Int) -> DataError,
        body: (Int, UnsafeRawBufferPointer) throws(DataError) -> Void
    ) throws(DataError) {
        precondition(rowBytes >= 1, "rows have at least one byte")
        let rowsPerPiece = max(1, pieceBytes / rowBytes)
        let piece = UnsafeMutableRawBufferPointer.allocate(byteCount: rowsPerPiece * rowBytes, alignment: 16)
        defer { piece.deallocate() }
        var next = 0  // position in `wanted`
        var first = 0
        while first < rowCount {
            let rows = min(rowsPerPiece, rowCount - first)
            let want = rows * rowBytes
            let got = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: piece[0..<want]))
            if got < want { throw truncated(first * rowBytes + got) }
            if let wanted {
                while next < wanted.count, wanted[next] < first + rows {
                    let offset = (wanted[next] - first) * rowBytes
                    try body(wanted[next], UnsafeRawBufferPointer(rebasing: piece[offset..<(offset + rowBytes)]))
                    next += 1
                }
            } else {
                for row in 0..<rows {
                    try body(first + row, UnsafeRawBufferPointer(rebasing: piece[(row * rowBytes)..<((row + 1) * rowBytes)]))
                }
            }
            first += rows
        }
    }

    /// Checks that `rows` are strictly ascending and below `limit`.
    /// - Throws: ``DataError/Code/invalidArgument`` (`rows`) naming the first offending index.
    static func checkAscending(_ rows: [Int], below limit: Int) throws(DataError) {
        var previous = -1
        for row in rows {
            guard row > previous else {
                throw DataError.invalidArgument("rows", "indices must be strictly ascending; \(row) follows \(previous)")
            }
            guard row < limit else { throw DataError.invalidArgument("rows", "index \(row) is outside 0..<\(limit)") }
            previous = row
        }
    }
}
