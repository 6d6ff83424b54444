import FedArenaCore

/// Writes little-endian fields into a buffer sized in advance (no reallocation, no bounds
/// growth: ``WireCodec`` computes the exact size first).
struct ByteWriter {
    private let buffer: UnsafeMutableRawBufferPointer
    /// The next byte to write.
    private(set) var offset: Int

    init(_ buffer: UnsafeMutableRawBufferPointer, offset: Int) {
        self.buffer = buffer
        self.offset = offset
    }

    /// The encoded size of a `str` field.
    static func size(of string: String) -> Int { 4 + string.utf8.count }

    /// The encoded size of an `ids` field.
    static func size(ofClients clients: [ClientID]) -> Int { 4 + 8 * clients.count }

    mutating func write<T: FixedWidthInteger>(_ value: T) {
        precondition(offset + MemoryLayout<T>.size <= buffer.count, "ByteWriter overflow")
        buffer.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
    }

    mutating func write(raw source: UnsafeRawBufferPointer) {
        precondition(offset + source.count <= buffer.count, "ByteWriter overflow")
        guard let base = source.baseAddress, source.count > 0 else { return }
        (buffer.baseAddress! + offset).copyMemory(from: base, byteCount: source.count)
        offset += source.count
    }

    mutating func write(bytes: [UInt8]) {
        write(UInt32(truncatingIfNeeded: bytes.count))
        bytes.withUnsafeBytes { write(raw: $0) }
    }

    mutating func write(string: String) {
        let utf8 = string.utf8
        write(UInt32(truncatingIfNeeded: utf8.count))
        let done: Void? = utf8.withContiguousStorageIfAvailable { write(raw: UnsafeRawBufferPointer($0)) }
        if done == nil {
            for byte in utf8 { write(byte) }
        }
    }

    mutating func write(clients: [ClientID]) {
        write(UInt32(truncatingIfNeeded: clients.count))
        for client in clients { write(Int64(client.rawValue)) }
    }

    /// Writes a `cvec` (``CompressedVector``): the encoding byte, the count, then the data.
    mutating func write(compressed: CompressedVector) {
        write(compressed.encodingByte)
        write(UInt32(truncatingIfNeeded: compressed.count))
        switch compressed {
        case .float16(let bits):
            #if _endian(little)
            bits.withUnsafeBytes { write(raw: $0) }
            #else
            for value in bits { write(value) }
            #endif
        case .int8(let blockSize, let scales, let codes):
            write(UInt32(truncatingIfNeeded: blockSize))
            #if _endian(little)
            scales.withUnsafeBytes { write(raw: $0) }
            #else
            for value in scales { write(value.bitPattern) }
            #endif
            codes.withUnsafeBytes { write(raw: $0) }
        }
    }

    /// Writes a `vec`: the count, then the float32 bit patterns (one copy on little-endian hosts).
    mutating func write(floats: [Float]) {
        write(UInt32(truncatingIfNeeded: floats.count))
        #if _endian(little)
        floats.withUnsafeBytes { write(raw: $0) }
        #else
        for value in floats { write(value.bitPattern) }
        #endif
    }
}
