import Foundation

/// A heatmap as SVG: a grid of coloured cells (rows × columns) on a sequential scale with a
/// colour bar, optional numbers in the cells, and rows that can be marked (true malicious
/// clients).
public struct SVGHeatmap: Sendable {
    /// The element id (unique within a report page).
    public var id: String
    /// The title above the grid.
    public var title: String
    /// The label under the column labels.
    public var xLabel: String
    /// The label beside the row labels.
    public var yLabel: String
    /// One label per row.
    public var rowLabels: [String]
    /// One label per column.
    public var columnLabels: [String]
    /// `values[row][column]`; `nil` is drawn grey.
    public var values: [[Double?]]
    /// The value range of the colour scale (default: the data's).
    public var domain: ClosedRange<Double>?
    /// Print each value in its cell.
    public var showValues: Bool
    /// Decimals of printed values.
    public var decimals: Int
    /// Rows drawn with a red marker and label.
    public var markedRows: Set<Int>
    /// What a marked row means, shown under the title.
    public var markNote: String?
    /// High values dark instead of bright (for metrics where high is bad).
    public var reversed: Bool

    /// Creates a heatmap.
    public init(
        id: String, title: String, xLabel: String, yLabel: String, rowLabels: [String], columnLabels: [String],
        values: [[Double?]], domain: ClosedRange<Double>? = nil, showValues: Bool = false, decimals: Int = 2,
        markedRows: Set<Int> = [], markNote: String? = nil, reversed: Bool = false
    ) {
        self.id = id
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
        self.values = values
        self.domain = domain
        self.showValues = showValues
        self.decimals = decimals
        self.markedRows = markedRows
        self.markNote = markNote
        self.reversed = reversed
    }

    /// The SVG document.
    public func render() -> String {
        let rows = rowLabels.count
        let columns = columnLabels.count
        let cellWidth: Double
        let cellHeight: Double
        if showValues {
            cellWidth = max(58, Double(decimals + 3) * 8 + 12)
            cellHeight = 26
        } else {
            cellWidth = min(40, max(4, 600 / Double(max(1, columns))))
            cellHeight = rows > 30 ? 10 : 18
        }
        let longestRow = Double(rowLabels.map(\.count).max() ?? 1)
        let left = 30 + min(200, longestRow * 7 + 14)
        let longestColumn = Double(columnLabels.map(\.count).max() ?? 1)
        let rotate = longestColumn * 7 > cellWidth - 4
        let bottom = (rotate ? min(130, longestColumn * 4.6 + 12) : 24) + 22
        let top = markNote == nil ? 36.0 : 52.0
        let right = 78.0
        let gridWidth = cellWidth * Double(columns)
        let gridHeight = cellHeight * Double(rows)
        let width = max(360, left + gridWidth + right, Double(title.count) * 8.6 + 24)
        let height = top + gridHeight + bottom

        let defined = values.flatMap { $0.compactMap { $0 } }.filter(\.isFinite)
        var range = domain ?? ((defined.min() ?? 0)...(defined.max() ?? 1))
        if range.upperBound <= range.lowerBound { range = range.lowerBound...(range.lowerBound + 1) }
        func position(_ value: Double) -> Double {
            let t = (value - range.lowerBound) / (range.upperBound - range.lowerBound)
            return reversed ? 1 - t : t
        }

        var svg = SVGChart.open(id: id, width: width, height: height, title: title)
        svg += SVGChart.text(title, x: 12, y: 20, size: 14, weight: "bold")
        if let markNote {
            svg += "<circle cx=\"18\" cy=\"35\" r=\"4\" fill=\"#d62728\"/>\n"
            svg += SVGChart.text(markNote, x: 28, y: 39, size: 11, fill: "#d62728")
        }
        for row in 0..<rows {
            let y = top + Double(row) * cellHeight
            let marked = markedRows.contains(row)
            if marked {
                svg += "<circle class=\"marked-row\" cx=\"\(SVGChart.coordinate(left - 8))\" cy=\"\(SVGChart.coordinate(y + cellHeight / 2))\" r=\"\(SVGChart.coordinate(min(4, cellHeight / 2.5)))\" fill=\"#d62728\"/>\n"
            }
            if cellHeight >= 10 {
                svg += SVGChart.text(
                    SVGChart.truncated(rowLabels[row], 28), x: left - 16, y: y + cellHeight / 2 + 4, anchor: "end",
                    size: cellHeight < 14 ? 9 : 11, weight: marked ? "bold" : nil, fill: marked ? "#d62728" : "#333333")
            }
            for column in 0..<columns {
                let x = left + Double(column) * cellWidth
                let value = row < values.count && column < values[row].count ? values[row][column] : nil
                let fill = value.map { SVGChart.sequential(position($0)) } ?? "#eeeeee"
                let tip = "\(rowLabels[row]), \(columnLabels[column]): \(value.map { String(format: "%.\(decimals + 2)f", $0) } ?? "undefined")"
                svg += "<rect class=\"cell\" x=\"\(SVGChart.coordinate(x))\" y=\"\(SVGChart.coordinate(y))\" width=\"\(SVGChart.coordinate(cellWidth))\" height=\"\(SVGChart.coordinate(cellHeight))\" fill=\"\(fill)\" stroke=\"#ffffff\" stroke-width=\"\(showValues ? "1" : "0.3")\"><title>\(SVGChart.escape(tip))</title></rect>\n"
                if showValues {
                    let text = value.map { String(format: "%.\(decimals)f", $0) } ?? "—"
                    let color = value.map { SVGChart.textColor(onSequential: position($0)) } ?? "#777777"
                    svg += SVGChart.text(text, x: x + cellWidth / 2, y: y + cellHeight / 2 + 4, anchor: "middle", size: 11, fill: color)
                }
            }
        }
        // Column labels, thinned when the cells are narrow.
        let every = max(1, Int(ceil(22 / cellWidth)))
        for column in stride(from: 0, to: columns, by: every) {
            let x = left + (Double(column) + 0.5) * cellWidth
            let y = top + gridHeight + 14
            if rotate {
                svg += SVGChart.text(SVGChart.truncated(columnLabels[column], 28), x: x + 3, y: y, anchor: "end", size: 11, fill: "#333333", rotate: -40)
            } else {
                svg += SVGChart.text(columnLabels[column], x: x, y: y, anchor: "middle", size: 11, fill: "#333333")
            }
        }
        svg += SVGChart.text(xLabel, x: left + gridWidth / 2, y: height - 8, anchor: "middle", fill: "#333333")
        svg += SVGChart.text(yLabel, x: 12, y: top + gridHeight / 2, anchor: "middle", fill: "#333333", rotate: -90)

        // Colour bar: low at the bottom.
        let barX = left + gridWidth + 16
        let barHeight = max(40, min(gridHeight, 220))
        let gradient = "\(SVGChart.escape(id))-scale"
        svg += "<defs><linearGradient id=\"\(gradient)\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">"
        for stop in 0...4 {
            let t = Double(stop) / 4
            svg += "<stop offset=\"\(SVGChart.coordinate(t))\" stop-color=\"\(SVGChart.sequential(reversed ? 1 - t : t))\"/>"
        }
        svg += "</linearGradient></defs>\n"
        svg += "<rect x=\"\(SVGChart.coordinate(barX))\" y=\"\(SVGChart.coordinate(top))\" width=\"12\" height=\"\(SVGChart.coordinate(barHeight))\" fill=\"url(#\(gradient))\" stroke=\"#888888\"/>\n"
        let format = "%.\(decimals)f"
        svg += SVGChart.text(String(format: format, range.upperBound), x: barX + 16, y: top + 9, size: 10, fill: "#555555")
        svg += SVGChart.text(String(format: format, range.lowerBound), x: barX + 16, y: top + barHeight, size: 10, fill: "#555555")
        svg += "</svg>\n"
        return svg
    }
}
