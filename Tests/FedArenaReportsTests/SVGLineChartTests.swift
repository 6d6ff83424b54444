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
}
