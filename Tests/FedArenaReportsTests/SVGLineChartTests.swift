import FedArenaReports
import Foundation
import Testing

@Suite struct SVGLineChartTests {
    @Test func lineChartBreaksLinesAtUndefinedPointsAndDrawsBands() {
        let svg = SVGLineChart(
            id: "chart-t", title: "t & u", xLabel: "round", yLabel: "y",
            series: [
                .init(name: "a", x: [1, 2, 3, 4, 5], y: [0.1, 0.2, nil, 0.4, 0.5], band: [0.0...0.2, 0.1...0.3, nil, nil, nil]),
                .init(name: "b", x: [1, 2], y: [0.3, 0.3]),
            ], yDomain: 0...1
        ).render()
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"chart-t\""))
        #expect(svg.contains("<title>t &amp; u</title>"))
        // Series a: two segments around the gap; series b: one.
        #expect(svg.components(separatedBy: "class=\"series\"").count - 1 == 3)
        #expect(svg.components(separatedBy: "class=\"band\"").count - 1 == 1)
        #expect(svg.hasSuffix("</svg>\n"))
        #expect(!svg.contains("<script"))
    }

    @Test func seriesThatDifferOnlyByRoundingGetAVisibleRange() {
        // 16 x 0.05 / 16 is not exactly 0.05: the chart must still render (and quickly).
        let svg = SVGLineChart(
            id: "chart-flat", title: "flat", xLabel: "round", yLabel: "weight",
            series: [.init(name: "a", x: [1, 2], y: [0.05, 0.05]), .init(name: "b", x: [1, 2], y: [(0.05 as Double).nextUp, (0.05 as Double).nextUp])]
        ).render()
        #expect(svg.components(separatedBy: "class=\"series\"").count - 1 == 2)
        // The range is 0.05 ± 0.05, ticked every 0.02.
        #expect(svg.contains(">0.04<") && svg.contains(">0.06<"), "\(svg)")
    }
}
