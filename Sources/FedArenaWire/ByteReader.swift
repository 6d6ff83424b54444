import FedArenaCore

/// Reads the fields of one payload, checking every length against the limits and the bytes
/// that remain before it allocates or reads anything.
struct ByteReader {
    private let buffer: UnsafeRawBufferPointer
    private var offset = 0
    private let kind: WireMessage.Kind
    let limits: DecodeLimits

    init(_ buffer: UnsafeRawBufferPointer, kind: WireMessage.Kind, limits: DecodeLimits) {
        self.buffer = buffer
        self.kind = kind
        self.limits = limits
    }

    private var remaining: Int { buffer.count - offset }

    /// Fails with `.truncated` unless `count` more bytes are there (`count` is never negative here).
    private func need(_ count: Int, _ field: String) throws(WireError) {
        if count > remaining {
            throw WireError(.truncated, "\(kind).\(field) needs \(count) bytes at payload offset \(offset), \(remaining) remain")
        }
    }

    private mutating func load<T: FixedWidthInteger>(_: T.Type, _ field: String) throws(WireError) -> T {
        try need(MemoryLayout<T>.size, field)
        let value = T(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += MemoryLayout<T>.size
        return value
    }

    mutating func u8(_ field: String) throws(WireError) -> UInt8 { try load(UInt8.self, field) }

    mutating func u16(_ field: String) throws(WireError) -> UInt16 { try load(UInt16.self, field) }

    mutating func u64(_ field: String) throws(WireError) -> UInt64 { try load(UInt64.self, field) }

    mutating func u32(_ field: String) throws(WireError) -> UInt32 { try load(UInt32.self, field) }

    /// A `bytes` field that must hold exactly one 32-byte hash.
    mutating func hash(_ field: String) throws(WireError) -> [UInt8] {
        let count = Int(try load(UInt32.self, field + ".count"))
        if count != 32 { throw WireError(.malformed, "\(kind).\(field) has \(count) bytes; a SHA-256 hash has 32") }
        try need(32, field)
        let bytes = [UInt8](UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + 32)]))
        offset += 32
        return bytes
    }

    /// `hashes`: a u32 count (at most 64, a Merkle path) and that many 32-byte hashes.
    mutating func hashes(_ field: String) throws(WireError) -> [[UInt8]] {
        let count = try count(field, elementSize: 32, limit: 64)
        var result = [[UInt8]]()
        result.reserveCapacity(count)
        for _ in 0..<count {
            result.append([UInt8](UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + 32)])))
            offset += 32
        }
        return result
    }

    /// A challenge's steps: a u32 count (at most ``DecodeLimits/maxOpenedSteps``) of `i64`
    /// steps in `1...maxCommittedSteps`, strictly ascending.
    mutating func steps(_ field: String) throws(WireError) -> [Int] {
        let count = try count(field, elementSize: 8, limit: limits.maxOpenedSteps)
        var steps = [Int]()
        steps.reserveCapacity(count)
        for position in 0..<count {
            let step = try index("\(field)[\(position)]")
            guard step >= 1, step <= limits.maxCommittedSteps, step > (steps.last ?? 0) else {
                throw WireError(.malformed, "\(kind).\(field)[\(position)] is \(step); steps must be strictly ascending in 1...\(limits.maxCommittedSteps)")
            }
            steps.append(step)
        }
        return steps
    }

    /// The u32 count of an OPENING's step openings (at most ``DecodeLimits/maxOpenedSteps``,
    /// each at least 80 bytes).
    mutating func openingCount(_ field: String) throws(WireError) -> Int {
        try count(field, elementSize: 80, limit: limits.maxOpenedSteps)
    }

    /// An `i64` that must be a non-negative `Int` (an index, a count or a round).
    mutating func index(_ field: String) throws(WireError) -> Int {
        let value = try load(Int64.self, field)
        if value < 0 || value > Int64(Int.max) {
            throw WireError(.malformed, "\(kind).\(field) is \(value); it must be non-negative")
        }
        return Int(value)
    }

    /// An `f64` that must be finite.
    mutating func finiteDouble(_ field: String) throws(WireError) -> Double {
        let value = Double(bitPattern: try load(UInt64.self, field))
        if !value.isFinite {
            throw WireError(.nonFinite, "\(kind).\(field) is \(value)")
        }
        return value
    }

    /// A u32 element count, checked against `limit` and against the bytes its elements need.
    private mutating func count(_ field: String, elementSize: Int, limit: Int?) throws(WireError) -> Int {
        let count = Int(try load(UInt32.self, field + ".count"))
        if let limit, count > limit {
            throw WireError(.oversized, "\(kind).\(field) has \(count) elements; the limit is \(limit)")
        }
        // count < 2^32 and elementSize <= 8, so the product cannot overflow a 64-bit Int.
        try need(count * elementSize, field)
        return count
    }

    mutating func string(_ field: String) throws(WireError) -> String {
        let length = Int(try load(UInt32.self, field + ".length"))
        if length > limits.maxStringBytes {
            throw WireError(.oversized, "\(kind).\(field) is \(length) bytes; the limit is \(limits.maxStringBytes)")
        }
        try need(length, field)
        let slice = UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + length)])
        guard let string = String(validating: slice, as: UTF8.self) else {
            throw WireError(.malformed, "\(kind).\(field) is not valid UTF-8")
        }
        offset += length
        return string
    }

    mutating func bytes(_ field: String) throws(WireError) -> [UInt8] {
        let count = try count(field, elementSize: 1, limit: nil)
        let bytes = [UInt8](UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + count)]))
        offset += count
        return bytes
    }

    mutating func clients(_ field: String) throws(WireError) -> [ClientID] {
        let count = try count(field, elementSize: 8, limit: limits.maxClients)
        var clients = [ClientID]()
        clients.reserveCapacity(count)
        for position in 0..<count {
            let value = try index("\(field)[\(position)]")
            clients.append(ClientID(value))
        }
        return clients
    }

    /// A `vec` of finite float32 values, of the expected parameter dimension unless
    /// `parameters` is false (sketches).
    mutating func floats(_ field: String, parameters: Bool = true, limit: Int? = nil) throws(WireError) -> [Float] {
        let count = try count(field, elementSize: 4, limit: limit)
        if parameters, let expected = limits.expectedParameterCount, count != expected {
            throw WireError(.dimensionMismatch, "\(kind).\(field) has \(count) parameters, expected \(expected)")
        }
        let source = UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + 4 * count)])
        let values = [Float](unsafeUninitializedCapacity: count) { destination, initialized in
            #if _endian(little)
            if count > 0 {
                UnsafeMutableRawPointer(destination.baseAddress!).copyMemory(from: source.baseAddress!, byteCount: 4 * count)
            }
            #else
            for index in 0..<count {
                destination[index] = Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self)))
            }
            #endif
            initialized = count
        }
        if let bad = Self.firstNonFinite(values) {
            throw WireError(.nonFinite, "\(kind).\(field)[\(bad)] is \(values[bad])")
        }
        offset += 4 * count
        return values
    }

    /// A `cvec` (``CompressedVector``) of the expected parameter dimension, whose values all
    /// decode to finite float32: halves with all exponent bits set are `.nonFinite`, as are int8
    /// scales that are negative, not finite, or so large that `127 s` overflows; codes of -128,
    /// unknown encodings and block sizes outside 1...65536 are `.malformed`.
    mutating func compressedVector(_ field: String) throws(WireError) -> CompressedVector {
        let encoding = try u8(field + ".encoding")
        guard encoding == 1 || encoding == 2 else {
            throw WireError(.malformed, "\(kind).\(field) has encoding \(encoding); 1 (float16) and 2 (int8) exist")
        }
        let count = Int(try load(UInt32.self, field + ".count"))
        if let expected = limits.expectedParameterCount, count != expected {
            throw WireError(.dimensionMismatch, "\(kind).\(field) has \(count) parameters, expected \(expected)")
        }
        if encoding == 1 {
            try need(2 * count, field)
            let source = UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + 2 * count)])
            let bits = [UInt16](unsafeUninitializedCapacity: count) { destination, initialized in
                for index in 0..<count {
                    destination[index] = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self))
                }
                initialized = count
            }
            if let bad = bits.firstIndex(where: Float16Codec.isNonFinite) {
                throw WireError(.nonFinite, "\(kind).\(field)[\(bad)] is a non-finite half (bits 0x\(String(bits[bad], radix: 16)))")
            }
            offset += 2 * count
            return .float16(bits)
        }
        let blockSize = Int(try load(UInt32.self, field + ".blockSize"))
        guard (1...Int8BlockCodec.maxBlockSize).contains(blockSize) else {
            throw WireError(.malformed, "\(kind).\(field) has int8 block size \(blockSize); it must be in 1...\(Int8BlockCodec.maxBlockSize)")
        }
        let blocks = Int8BlockCodec.blockCount(count, blockSize: blockSize)
        try need(4 * blocks + count, field)
        let scaleBytes = UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + 4 * blocks)])
        let scales = [Float](unsafeUninitializedCapacity: blocks) { destination, initialized in
            for index in 0..<blocks {
                destination[index] = Float(bitPattern: UInt32(littleEndian: scaleBytes.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self)))
            }
            initialized = blocks
        }
        let largestScale = Float.greatestFiniteMagnitude / 127
        if let bad = scales.firstIndex(where: { !($0 >= 0 && $0 <= largestScale) }) {
            throw WireError(
                .nonFinite, "\(kind).\(field) int8 scale \(bad) is \(scales[bad]); scales must be finite, non-negative and at most \(largestScale)")
        }
        let codeBytes = UnsafeRawBufferPointer(rebasing: buffer[(offset + 4 * blocks)..<(offset + 4 * blocks + count)])
        let codes = [Int8](unsafeUninitializedCapacity: count) { destination, initialized in
            for index in 0..<count { destination[index] = Int8(bitPattern: codeBytes[index]) }
            initialized = count
        }
        if let bad = codes.firstIndex(of: -128) {
            throw WireError(.malformed, "\(kind).\(field) int8 code \(bad) is -128; codes are symmetric, -127...127")
        }
        offset += 4 * blocks + count
        return .int8(blockSize: blockSize, scales: scales, codes: codes)
    }

    /// Metrics: a u32 count, then (`str` key, finite `f64`) pairs with strictly ascending keys.
    mutating func metrics(_ field: String) throws(WireError) -> [String: Double] {
        let count = try count(field, elementSize: 12, limit: limits.maxMetrics)
        var metrics = [String: Double](minimumCapacity: count)
        var previous: String?
        for position in 0..<count {
            let key = try string("\(field)[\(position)].key")
            if let previous, !previous.utf8.lexicographicallyPrecedes(key.utf8) {
                throw WireError(.malformed, "\(kind).\(field) key \"\(key)\" is not after \"\(previous)\": keys must be unique and sorted by UTF-8 bytes")
            }
            let value = try finiteDouble("\(field)[\"\(key)\"]")
            if metrics.updateValue(value, forKey: key) != nil {
                throw WireError(.malformed, "\(kind).\(field) key \"\(key)\" appears twice (canonically equivalent spellings)")
            }
            previous = key
        }
        return metrics
    }

    /// Fails with `.malformed` if payload bytes are left over.
    func expectEnd() throws(WireError) {
        if remaining != 0 {
            throw WireError(.malformed, "\(remaining) unread bytes at the end of the \(kind) payload")
        }
    }

    /// The index of the first NaN or infinity, found with a branch-free scan over the exponent bits.
    private static func firstNonFinite(_ values: [Float]) -> Int? {
        values.withUnsafeBufferPointer { buffer -> Int? in
            var flagged: UInt32 = 0
            for value in buffer {
                flagged |= (value.bitPattern & 0x7F80_0000) == 0x7F80_0000 ? 1 : 0
            }
            guard flagged != 0 else { return nil }
            return buffer.firstIndex { !$0.isFinite }
        }
    }
}
