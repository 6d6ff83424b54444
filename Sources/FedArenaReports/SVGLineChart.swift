import Foundation

/// A line chart as SVG: series of (x, y) points with gaps where y is undefined, optional
/// shaded bands (a spread over seeds), axes with nice ticks, and a legend.
public struct SVGLineChart: Sendable {
    /// One line.
    public struct Series: Sendable {
        /// The legend text.
        public var name: String
        /// The x values.
        public var x: [Double]
        /// The y values (`nil` leaves a gap).
        public var y: [Double?]
        /// A shaded band around the line, per x (`nil` where undefined).
        public var band: [ClosedRange<Double>?]?
        /// The colour (default: the palette colour of the series' position).
        public var color: String?
        /// Dashed line (a reference such as chance level).
        public var dashed: Bool
        /// Dots at the points.
        public var markers: Bool

        /// Creates a series.
        public init(
            name: String, x: [Double], y: [Double?], band: [ClosedRange<Double>?]? = nil, color: String? = nil,
            dashed: Bool = false, markers: Bool = false
        ) {
            self.name = name
            self.x = x
            self.y = y
            self.band = band
            self.color = color
            self.dashed = dashed
            self.markers = markers
        }
    }

    /// The element id (unique within a report page).
    public var id: String
    /// The title above the plot.
    public var title: String
    /// The x axis label.
    public var xLabel: String
    /// The y axis label.
    public var yLabel: String
    /// The lines.
    public var series: [Series]
    /// A fixed y range (default: the data's, padded).
    public var yDomain: ClosedRange<Double>?
    /// A fixed x range (default: the data's).
    public var xDomain: ClosedRange<Double>?
    /// Integer x ticks only (rounds).
    public var integerX: Bool
    /// Width in pixels.
    public var width: Double
    /// Height in pixels.
    public var height: Double

    /// Creates a chart.
    public init(
        id: String, title: String, xLabel: String, yLabel: String, series: [Series], yDomain: ClosedRange<Double>? = nil,
        xDomain: ClosedRange<Double>? = nil, integerX: Bool = true, width: Double = 540, height: Double = 300
    ) {
        self.id = id
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.yDomain = yDomain
        self.xDomain = xDomain
        self.integerX = integerX
        self.width = width
        self.height = height
    }

    /// The SVG document.
    public func render() -> String {
        let showLegend = series.count > 1 || series.contains { $0.band != nil }
        let legendWidth = showLegend ? min(220, 34 + 7 * Double(series.map(\.name.count).max() ?? 0)) : 0
        let left = 62.0, right = 16 + legendWidth, top = 34.0, bottom = 46.0
        let plotWidth = max(40, width - left - right)
        let plotHeight = max(40, height - top - bottom)

        let xs = series.flatMap(\.x).filter(\.isFinite)
        var ys = series.flatMap { $0.y.compactMap { $0 } }.filter(\.isFinite)
        ys += series.flatMap { ($0.band ?? []).compactMap { $0 }.flatMap { [$0.lowerBound, $0.upperBound] } }.filter(\.isFinite)
        let xRange = xDomain ?? ((xs.min() ?? 0)...(max(xs.max() ?? 1, (xs.min() ?? 0) + (integerX ? 1 : 1e-9))))
        let yRange: ClosedRange<Double>
        if let yDomain {
            yRange = yDomain
        } else {
            let low = ys.min() ?? 0
            let high = ys.max() ?? 1
            // A flat series (or one that differs only by rounding) gets a visible range around it.
            let flat = high - low <= 1e-9 * max(1, abs(high))
            let pad = flat ? max(abs(high) * 0.1, 0.05) : (high - low) * 0.06
            yRange = (low - pad)...(high + pad)
        }
        func px(_ x: Double) -> Double { left + (x - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * plotWidth }
        func py(_ y: Double) -> Double { top + plotHeight - (y - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound) * plotHeight }

        var svg = SVGChart.open(id: id, width: width, height: height, title: title)
        svg += SVGChart.text(SVGChart.truncated(title, Int((width - left) / 8.6)), x: left, y: 20, size: 14, weight: "bold")
        // Grid and ticks.
        let yTicks = SVGChart.ticks(yRange.lowerBound, yRange.upperBound, count: 5)
        let yStep = yTicks.count > 1 ? yTicks[1] - yTicks[0] : 1
        for tick in yTicks {
            let y = py(tick)
            svg += "<line x1=\"\(SVGChart.coordinate(left))\" y1=\"\(SVGChart.coordinate(y))\" x2=\"\(SVGChart.coordinate(left + plotWidth))\" y2=\"\(SVGChart.coordinate(y))\" stroke=\"#e4e4e4\"/>\n"
            svg += SVGChart.text(SVGChart.tickLabel(tick, step: yStep), x: left - 6, y: y + 4, anchor: "end", size: 11, fill: "#555555")
        }
        let xTicks = SVGChart.ticks(xRange.lowerBound, xRange.upperBound, count: 6, minimumStep: integerX ? 1 : 0)
        let xStep = xTicks.count > 1 ? xTicks[1] - xTicks[0] : 1
        for tick in xTicks {
            let x = px(tick)
            svg += "<line x1=\"\(SVGChart.coordinate(x))\" y1=\"\(SVGChart.coordinate(top + plotHeight))\" x2=\"\(SVGChart.coordinate(x))\" y2=\"\(SVGChart.coordinate(top + plotHeight + 4))\" stroke=\"#888888\"/>\n"
            svg += SVGChart.text(SVGChart.tickLabel(tick, step: xStep), x: x, y: top + plotHeight + 17, anchor: "middle", size: 11, fill: "#555555")
        }
        svg += "<rect x=\"\(SVGChart.coordinate(left))\" y=\"\(SVGChart.coordinate(top))\" width=\"\(SVGChart.coordinate(plotWidth))\" height=\"\(SVGChart.coordinate(plotHeight))\" fill=\"none\" stroke=\"#888888\"/>\n"
        svg += SVGChart.text(xLabel, x: left + plotWidth / 2, y: height - 8, anchor: "middle", fill: "#333333")
        svg += SVGChart.text(yLabel, x: 16, y: top + plotHeight / 2, anchor: "middle", fill: "#333333", rotate: -90)

        // Bands first, then lines on top.
        svg += "<defs><clipPath id=\"\(SVGChart.escape(id))-clip\"><rect x=\"\(SVGChart.coordinate(left))\" y=\"\(SVGChart.coordinate(top))\" width=\"\(SVGChart.coordinate(plotWidth))\" height=\"\(SVGChart.coordinate(plotHeight))\"/></clipPath></defs>\n"
        svg += "<g clip-path=\"url(#\(SVGChart.escape(id))-clip)\">\n"
        for (index, line) in series.enumerated() {
            guard let band = line.band else { continue }
            let color = line.color ?? SVGChart.color(index)
            for segment in Self.segments(count: min(band.count, line.x.count), defined: { band[$0] != nil }) {
                let upper = segment.map { "\(SVGChart.coordinate(px(line.x[$0]))),\(SVGChart.coordinate(py(band[$0]!.upperBound)))" }
                let lower = segment.reversed().map { "\(SVGChart.coordinate(px(line.x[$0]))),\(SVGChart.coordinate(py(band[$0]!.lowerBound)))" }
                svg += "<polygon class=\"band\" points=\"\((upper + lower).joined(separator: " "))\" fill=\"\(color)\" fill-opacity=\"0.18\" stroke=\"none\"/>\n"
            }
        }
        for (index, line) in series.enumerated() {
            let color = line.color ?? SVGChart.color(index)
            let count = min(line.x.count, line.y.count)
            for segment in Self.segments(count: count, defined: { line.y[$0]?.isFinite == true }) {
                let path = segment.enumerated().map { position, point in
                    "\(position == 0 ? "M" : "L")\(SVGChart.coordinate(px(line.x[point]))) \(SVGChart.coordinate(py(line.y[point]!)))"
                }.joined(separator: " ")
                let dash = line.dashed ? " stroke-dasharray=\"5 4\"" : ""
                svg += "<path class=\"series\" d=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"\(dash)><title>\(SVGChart.escape(line.name))</title></path>\n"
                if line.markers || segment.count == 1 {
                    for point in segment {
                        svg += "<circle cx=\"\(SVGChart.coordinate(px(line.x[point])))\" cy=\"\(SVGChart.coordinate(py(line.y[point]!)))\" r=\"2.6\" fill=\"\(color)\"/>\n"
                    }
                }
            }
        }
        svg += "</g>\n"
        if showLegend {
            var y = top + 6
            let x = left + plotWidth + 14
            for (index, line) in series.enumerated() {
                let color = line.color ?? SVGChart.color(index)
                if line.band != nil {
                    svg += "<rect x=\"\(SVGChart.coordinate(x))\" y=\"\(SVGChart.coordinate(y - 5))\" width=\"22\" height=\"10\" fill=\"\(color)\" fill-opacity=\"0.18\"/>\n"
                }
                let dash = line.dashed ? " stroke-dasharray=\"5 4\"" : ""
                svg += "<line x1=\"\(SVGChart.coordinate(x))\" y1=\"\(SVGChart.coordinate(y))\" x2=\"\(SVGChart.coordinate(x + 22))\" y2=\"\(SVGChart.coordinate(y))\" stroke=\"\(color)\" stroke-width=\"2\"\(dash)/>\n"
                svg += SVGChart.text(SVGChart.truncated(line.name, 26), x: x + 28, y: y + 4, size: 11)
                y += 16
                if y > height - 10 { break }
            }
        }
        svg += "</svg>\n"
        return svg
    }

    /// Runs of consecutive indices in `0..<count` where `defined` holds.
    static func segments(count: Int, defined: (Int) -> Bool) -> [[Int]] {
        var result = [[Int]]()
        var current = [Int]()
        for index in 0..<count {
            if defined(index) {
                current.append(index)
            } else if !current.isEmpty {
                result.append(current)
                current = []
            }
        }
        if !current.isEmpty { result.append(current) }
        return result
    }
}
