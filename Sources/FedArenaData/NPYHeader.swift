/// The header dictionary of an NPY file: `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
///
/// Internal to ``NPYFile``: it formats the header exactly as numpy's `np.save` does and parses
/// the Python-literal subset numpy writes (strings, `True`/`False`, tuples of integers).
struct NPYHeader: Equatable {
    var descr: String
    var fortranOrder: Bool
    var shape: [Int]

    /// numpy's `GROWTH_AXIS_MAX_DIGITS`: spare spaces so the first axis can grow in place.
    static let growthAxisMaxDigits = 21
    /// numpy's `ARRAY_ALIGN`: the data starts at a multiple of this.
    static let alignment = 64

    /// `(3,)`, `(2, 3)`, `()`: Python's `repr` of the shape tuple.
    static func shapeLiteral(_ shape: [Int]) -> String {
        switch shape.count {
        case 0: "()"
        case 1: "(\(shape[0]),)"
        default: "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
    }

    /// The complete preamble (magic, version, length, dictionary, padding, newline), as numpy
    /// 2.x writes it: version 1.0 unless the header outgrows a 16-bit length, then 2.0.
    func encoded() -> [UInt8] {
        var text = "{'descr': '\(descr)', 'fortran_order': \(fortranOrder ? "True" : "False"), "
            + "'shape': \(Self.shapeLiteral(shape)), }"
        if let first = fortranOrder ? shape.last : shape.first {
            text += String(repeating: " ", count: max(0, Self.growthAxisMaxDigits - String(first).count))
        }
        var major: UInt8 = 1
        var prefixLength = 10
        var padding = Self.alignment - (prefixLength + text.utf8.count + 1) % Self.alignment
        if text.utf8.count + 1 + padding > Int(UInt16.max) {
            major = 2
            prefixLength = 12
            padding = Self.alignment - (prefixLength + text.utf8.count + 1) % Self.alignment
        }
        text += String(repeating: " ", count: padding) + "\n"
        let length = text.utf8.count
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [major, 0]
        if major == 1 {
            bytes += [UInt8(length & 0xFF), UInt8(length >> 8)]
        } else {
            bytes += (0..<4).map { UInt8((length >> (8 * $0)) & 0xFF) }
        }
        return bytes + Array(text.utf8)
    }

    /// Parses the dictionary text (between the length field and the data).
    /// - Throws: A reason string (the caller wraps it in a ``DataError``).
    static func parse(_ text: String) throws(NPYHeaderParseError) -> NPYHeader {
        var parser = LiteralParser(Array(text.utf8))
        var fields = [String: LiteralParser.Value]()
        try parser.expect(UInt8(ascii: "{"))
        while true {
            parser.skipSpaces()
            if parser.consume(UInt8(ascii: "}")) { break }
            guard case .string(let key) = try parser.value() else { throw NPYHeaderParseError("a key is not a string") }
            try parser.expect(UInt8(ascii: ":"))
            guard fields[key] == nil else { throw NPYHeaderParseError("key '\(key)' appears twice") }
            fields[key] = try parser.value()
            parser.skipSpaces()
            if parser.consume(UInt8(ascii: ",")) { continue }
            try parser.expect(UInt8(ascii: "}"))
            break
        }
        parser.skipSpaces()
        guard parser.atEnd else { throw NPYHeaderParseError("text after the closing brace") }
        guard Set(fields.keys) == ["descr", "fortran_order", "shape"] else {
            throw NPYHeaderParseError(
                "keys are \(fields.keys.sorted()), expected ['descr', 'fortran_order', 'shape']")
        }
        guard case .string(let descr)? = fields["descr"] else { throw NPYHeaderParseError("'descr' is not a string") }
        guard case .bool(let fortranOrder)? = fields["fortran_order"] else {
            throw NPYHeaderParseError("'fortran_order' is not True or False")
        }
        guard case .tuple(let shape)? = fields["shape"] else { throw NPYHeaderParseError("'shape' is not a tuple") }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw NPYHeaderParseError("'shape' has a negative dimension") }
        return NPYHeader(descr: descr, fortranOrder: fortranOrder, shape: shape)
    }
}

/// Why a header dictionary did not parse.
struct NPYHeaderParseError: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}

/// A parser for the Python literals in an NPY header.
private struct LiteralParser {
    enum Value: Equatable {
        case string(String)
        case bool(Bool)
        case tuple([Int])
    }

    private let bytes: [UInt8]
    private var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { position >= bytes.count }

    mutating func skipSpaces() {
        while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
    }

    mutating func consume(_ byte: UInt8) -> Bool {
        guard position < bytes.count, bytes[position] == byte else { return false }
        position += 1
        return true
    }

    mutating func expect(_ byte: UInt8) throws(NPYHeaderParseError) {
        skipSpaces()
        guard consume(byte) else {
            throw NPYHeaderParseError("expected '\(Character(Unicode.Scalar(byte)))' at offset \(position)")
        }
    }

    mutating func value() throws(NPYHeaderParseError) -> Value {
        skipSpaces()
        guard position < bytes.count else { throw NPYHeaderParseError("unexpected end of the header") }
        let byte = bytes[position]
        if byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") {
            position += 1
            let start = position
            while position < bytes.count, bytes[position] != byte { position += 1 }
            guard position < bytes.count else { throw NPYHeaderParseError("unterminated string") }
            let text = String(decoding: bytes[start..<position], as: UTF8.self)
            position += 1
            return .string(text)
        }
        if consumeWord("True") { return .bool(true) }
        if consumeWord("False") { return .bool(false) }
        if consume(UInt8(ascii: "(")) {
            var items = [Int]()
            while true {
                skipSpaces()
                if consume(UInt8(ascii: ")")) { break }
                items.append(try integer())
                skipSpaces()
                if consume(UInt8(ascii: ",")) { continue }
                try expect(UInt8(ascii: ")"))
                break
            }
            return .tuple(items)
        }
        throw NPYHeaderParseError("unexpected character '\(Character(Unicode.Scalar(byte)))' at offset \(position)")
    }

    private mutating func consumeWord(_ word: String) -> Bool {
        let utf8 = Array(word.utf8)
        guard position + utf8.count <= bytes.count, Array(bytes[position..<(position + utf8.count)]) == utf8 else {
            return false
        }
        position += utf8.count
        return true
    }

    private mutating func integer() throws(NPYHeaderParseError) -> Int {
        var negative = false
        if consume(UInt8(ascii: "-")) { negative = true }
        var value = 0
        var digits = 0
        while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 {
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int(bytes[position] - 0x30))
            guard !overflow1, !overflow2 else { throw NPYHeaderParseError("a dimension overflows Int") }
            value = sum
            digits += 1
            position += 1
        }
        // Python 2 era files may write `3L`.
        _ = consume(UInt8(ascii: "L"))
        guard digits > 0 else { throw NPYHeaderParseError("expected an integer at offset \(position)") }
        return negative ? -value : value
    }
}
