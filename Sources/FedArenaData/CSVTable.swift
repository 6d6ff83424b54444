import FedArenaCore
import Foundation

/// Reads a `csv` dataset split (see ``DatasetSource``): one sample per line, fields separated by
/// commas, one of them the label. Internal: ``DatasetSource`` is the public face.
///
/// - With `header: true` (the default) the first non-blank line names the columns and
///   `label_column` may be a name (default `label`) or a 0-based index; with `header: false`
///   every line is a sample and `label_column` must be an index.
/// - Every line has the same number of fields; a feature is a decimal number (`strtof`, so
///   `1e-3` and `-0.5` work), finite, and in [0, 1] when the shape is an image shape; a label is
///   a whole number (`3` or `3.0`). Fields may be padded with spaces; there is no quoting (header
///   names may be double-quoted).
/// - Blank lines are skipped, `\r\n` line ends accepted, and `.csv.gz` files read in place.
enum CSVTable {
    /// What ``load(_:files:shape:classCount:rows:limit:)`` returns.
    struct Loaded {
        /// The samples at the rows asked for.
        var samples: SampleStore
        /// The label of every sample of the (limited) file.
        var allLabels: [Int32]
    }

    /// Scans a split without keeping its features.
    static func scan(_ path: String, files: DatasetFiles, declaredShape: [Int]?, limit: Int?) throws(DataError) -> SplitScan {
        var shape: [Int] = []
        var largest = 0
        var largestIndex = 0
        var scanned = 0
        var available = 0
        try parse(path, files: files, declaredShape: declaredShape) { layout in
            shape = layout.shape
        } row: { sample, fields, parser throws(DataError) in
            available = sample + 1
            guard limit.map({ sample < $0 }) ?? true else { return }
            let label = try parser.label(fields)
            if label > largest {
                largest = label
                largestIndex = sample
            }
            try parser.checkFeatures(fields)
            scanned += 1
        }
        return SplitScan(
            path: path, labelsPath: path, shape: shape, count: scanned, available: available, largestLabel: largest,
            largestLabelIndex: largestIndex)
    }

    /// Reads the features of the samples at `rows` (all when `nil`) and every label, of the first `limit` samples.
    static func load(
        _ path: String, files: DatasetFiles, shape: [Int], classCount: Int, rows: [Int]?, limit: Int?
    ) throws(DataError) -> Loaded {
        var labels = [Int32]()
        var features = [Float]()
        var next = 0
        let width = shape.reduce(1, *)
        if let rows { features.reserveCapacity(rows.count * width) }
        try parse(path, files: files, declaredShape: shape) { _ in
        } row: { sample, fields, parser throws(DataError) in
            guard limit.map({ sample < $0 }) ?? true else { return }
            let label = try parser.label(fields)
            guard label < classCount else {
                throw DataError(.malformedFile, "line \(parser.line): label \(label) is not a class 0..<\(classCount)", path: path)
            }
            labels.append(Int32(label))
            if let rows {
                guard next < rows.count, rows[next] == sample else { return }
                next += 1
            }
            try parser.appendFeatures(fields, to: &features)
        }
        if let rows { try RowStream.checkAscending(rows, below: labels.count) }
        let picked = rows.map { $0.map { labels[$0] } } ?? labels
        return Loaded(
            samples: SampleStore(values: .floats(features), labels: picked, featureCount: width, classCount: classCount),
            allLabels: labels)
    }

    /// The columns of a file, once its first line is read.
    struct Layout {
        /// Fields per line.
        var columns: Int
        /// The label's field.
        var labelIndex: Int
        /// One sample's shape.
        var shape: [Int]
    }

    /// Parses the fields of one line.
    struct Parser {
        let path: String
        let layout: Layout
        let image: Bool
        /// The 1-based line number of the current line.
        var line = 0
        private var scratch = [CChar](repeating: 0, count: 64)

        init(path: String, layout: Layout) {
            self.path = path
            self.layout = layout
            self.image = SampleShape.isImage(layout.shape)
        }

        /// The label field as a whole, non-negative number.
        mutating func label(_ fields: [ArraySlice<UInt8>]) throws(DataError) -> Int {
            let value = try number(fields[layout.labelIndex], column: layout.labelIndex)
            guard value.isFinite, value == value.rounded(), value >= 0, value < Double(Int32.max) else {
                throw DataError(
                    .malformedFile, "line \(line): label \(text(fields[layout.labelIndex])) is not a whole non-negative class index",
                    path: path)
            }
            return Int(value)
        }

        /// Checks every feature field.
        mutating func checkFeatures(_ fields: [ArraySlice<UInt8>]) throws(DataError) {
            for column in 0..<layout.columns where column != layout.labelIndex {
                _ = try feature(fields[column], column: column)
            }
        }

        /// Appends every feature field, in column order.
        mutating func appendFeatures(_ fields: [ArraySlice<UInt8>], to features: inout [Float]) throws(DataError) {
            for column in 0..<layout.columns where column != layout.labelIndex {
                features.append(try feature(fields[column], column: column))
            }
        }

        private mutating func feature(_ field: ArraySlice<UInt8>, column: Int) throws(DataError) -> Float {
            let value = Float(try number(field, column: column, single: true))
            try SampleShape.checkValue(value, image: image, sample: 0, position: column, path: path, where: "line \(line), column \(column + 1)")
            return value
        }

        /// Parses a decimal number with `strtof` (or `strtod`), the whole field (spaces trimmed).
        private mutating func number(_ field: ArraySlice<UInt8>, column: Int, single: Bool = false) throws(DataError) -> Double {
            var start = field.startIndex
            var end = field.endIndex
            while start < end, field[start] == 0x20 || field[start] == 0x09 { start += 1 }
            while end > start, field[end - 1] == 0x20 || field[end - 1] == 0x09 { end -= 1 }
            let length = end - start
            guard length > 0 else {
                throw DataError(.malformedFile, "line \(line), column \(column + 1): empty field", path: path)
            }
            if scratch.count < length + 1 { scratch = [CChar](repeating: 0, count: length + 1) }
            for offset in 0..<length { scratch[offset] = CChar(bitPattern: field[start + offset]) }
            scratch[length] = 0
            let (value, consumed): (Double, Int) = scratch.withUnsafeMutableBufferPointer { buffer in
                var stop: UnsafeMutablePointer<CChar>?
                let base = buffer.baseAddress!
                let parsed = single ? Double(strtof(base, &stop)) : strtod(base, &stop)
                return (parsed, stop.map { $0 - base } ?? 0)
            }
            guard consumed == length else {
                throw DataError(
                    .malformedFile, "line \(line), column \(column + 1): \"\(text(field))\" is not a number", path: path)
            }
            return value
        }

        private func text(_ field: ArraySlice<UInt8>) -> String {
            String(decoding: field.prefix(40), as: UTF8.self).trimmingCharacters(in: .whitespaces)
        }
    }

    /// Reads the file line by line: the header (or first line) fixes the layout, then `row` is
    /// called for each sample with its index, its fields and a parser.
    private static func parse(
        _ path: String, files: DatasetFiles, declaredShape: [Int]?, layout announce: (Layout) -> Void,
        row: (Int, [ArraySlice<UInt8>], inout Parser) throws(DataError) -> Void
    ) throws(DataError) {
        let file = try GzipFile.open(reading: path)
        var parser: Parser?
        var sample = 0
        var lineNumber = 0
        try forEachLine(file) { line throws(DataError) in
            lineNumber += 1
            var content = line
            if content.last == 0x0D { content = content.dropLast() }
            if content.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
            let fields = content.split(separator: 0x2C, omittingEmptySubsequences: false)
            guard var current = parser else {
                let layout = try makeLayout(fields, path: path, files: files, declaredShape: declaredShape, line: lineNumber)
                announce(layout)
                parser = Parser(path: path, layout: layout)
                if files.header { return }
                var first = parser!
                first.line = lineNumber
                try row(sample, fields, &first)
                parser = first
                sample += 1
                return
            }
            guard fields.count == current.layout.columns else {
                throw DataError(
                    .malformedFile,
                    "line \(lineNumber) has \(fields.count) fields, \(files.header ? "the header has" : "the first line has") \(current.layout.columns)",
                    path: path)
            }
            current.line = lineNumber
            try row(sample, fields, &current)
            parser = current
            sample += 1
        }
        try file.close()
        guard parser != nil else { throw DataError(.malformedFile, "the file is empty", path: path) }
    }

    private static func makeLayout(
        _ fields: [ArraySlice<UInt8>], path: String, files: DatasetFiles, declaredShape: [Int]?, line: Int
    ) throws(DataError) -> Layout {
        let columns = fields.count
        guard columns >= 2 else {
            throw DataError(.malformedFile, "line \(line) has \(columns) field; a sample needs a label and at least one feature", path: path)
        }
        let labelIndex: Int
        switch files.labelColumn {
        case .index(let index):
            guard index >= 0, index < columns else {
                throw DataError(.malformedFile, "label_column \(index) is outside the \(columns) columns (0-based)", path: path)
            }
            labelIndex = index
        case .name(let name):
            guard files.header else {
                throw DataError.invalidArgument(
                    "dataset.label_column", "\"\(name)\" is a column name, but header is false: give the label's 0-based column index")
            }
            let names = fields.map { field in
                String(decoding: field, as: UTF8.self).trimmingCharacters(in: .whitespaces)
                    .trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
            guard let index = names.firstIndex(of: name) else {
                let shown = names.prefix(8).joined(separator: ", ") + (names.count > 8 ? ", ..." : "")
                throw DataError(
                    .malformedFile, "the header has no column named \"\(name)\" (label_column); its columns: \(shown)", path: path)
            }
            labelIndex = index
        }
        let shape: [Int]
        if let declaredShape {
            guard declaredShape.reduce(1, *) == columns - 1 else {
                throw DataError(
                    .malformedFile,
                    "\(columns - 1) feature columns (besides the label) do not fill dataset.shape \(declaredShape) (\(declaredShape.reduce(1, *)) values)",
                    path: path)
            }
            shape = declaredShape
        } else {
            shape = [columns - 1]
        }
        return Layout(columns: columns, labelIndex: labelIndex, shape: shape)
    }

    /// Calls `body` with each line's bytes (without the `\n`), reading 1 MiB at a time.
    private static func forEachLine(_ file: GzipFile, _ body: (ArraySlice<UInt8>) throws(DataError) -> Void) throws(DataError) {
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var carry = [UInt8]()
        while true {
            let got = try file.read(into: &chunk)
            if got == 0 { break }
            var start = 0
            for index in 0..<got where chunk[index] == 0x0A {
                if carry.isEmpty {
                    try body(chunk[start..<index])
                } else {
                    carry.append(contentsOf: chunk[start..<index])
                    try body(carry[...])
                    carry.removeAll(keepingCapacity: true)
                }
                start = index + 1
            }
            carry.append(contentsOf: chunk[start..<got])
        }
        if !carry.isEmpty { try body(carry[...]) }
    }
}
