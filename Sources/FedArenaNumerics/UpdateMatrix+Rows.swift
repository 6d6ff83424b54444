import FedArenaCore

extension UpdateMatrix {
    /// Calls `body` with pointers into the block (no copy): all rows, or the rows at `indices`.
    /// - Parameters:
    ///   - indices: the rows to view, in the order wanted (`nil`: every row).
    ///   - body: the work; the pointers are valid only during the call.
    /// - Returns: what `body` returns.
    /// - Throws: what `body` throws.
    public func withRows<R, E: Error>(_ indices: [Int]? = nil, _ body: (RowPointers) throws(E) -> R) throws(E) -> R {
        let d = dimension
        return try withValues { (buffer: UnsafeBufferPointer<Float>) throws(E) -> R in
            // A zero-length block has no base address; no row is then read.
            let base = buffer.baseAddress ?? UnsafePointer(bitPattern: MemoryLayout<Float>.alignment)!
            let pointers = (indices ?? Array(0..<count)).map { base + $0 * d }
            return try body(RowPointers(pointers: pointers, columns: d))
        }
    }
}
