import Foundation

/// A table of text cells with a header, rendered as CSV (RFC 4180, which pandas' `read_csv`
/// reads) or as a GitHub-flavoured Markdown table.
public struct Table: Sendable, Equatable {
    /// Column names.
    public var header: [String]
    /// Rows; each has one cell per column (shorter rows are padded with empty cells).
    public var rows: [[String]]
    /// Columns right-aligned in Markdown (numbers), by index.
    public var rightAligned: Set<Int>

    /// Creates a table.
    public init(header: [String], rows: [[String]] = [], rightAligned: Set<Int> = []) {
        self.header = header
        self.rows = rows
        self.rightAligned = rightAligned
    }

    /// The table as CSV: a header line, then one line per row, `\n` line ends; a field with a
    /// comma, a quote or a line break is quoted, and its quotes doubled.
    public func csv() -> String {
        var text = ""
        for row in [header] + rows {
            let padded = row + Array(repeating: "", count: max(0, header.count - row.count))
            text += padded.map(Self.csvField).joined(separator: ",") + "\n"
        }
        return text
    }

    /// The table as Markdown; `|` inside cells is escaped and line breaks become spaces.
    public func markdown() -> String {
        func cell(_ text: String) -> String {
            text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
        }
        let rendered = rows.map { row in (row + Array(repeating: "", count: max(0, header.count - row.count))).map(cell) }
        let headers = header.map(cell)
        var widths = headers.map(\.count)
        for row in rendered {
            for (index, text) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], text.count, 3) }
        }
        func line(_ cells: [String]) -> String {
            "| " + cells.enumerated().map { index, text in
                let pad = String(repeating: " ", count: max(0, widths[index] - text.count))
                return rightAligned.contains(index) ? pad + text : text + pad
            }.joined(separator: " | ") + " |"
        }
        var text = line(headers) + "\n"
        text += "|" + widths.indices.map { index in
            let dashes = String(repeating: "-", count: max(3, widths[index]))
            return rightAligned.contains(index) ? " " + dashes.dropLast() + ": " : " " + dashes + " "
        }.joined(separator: "|") + "|\n"
        for row in rendered { text += line(Array(row.prefix(header.count))) + "\n" }
        return text
    }

    private static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
