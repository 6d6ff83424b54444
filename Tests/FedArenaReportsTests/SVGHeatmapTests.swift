import FedArenaReports
import Foundation
import Testing

@Suite struct SVGHeatmapTests {
    @Test func heatmapPrintsValuesAndMarksRows() {
        let svg = SVGHeatmap(
            id: "chart-h", title: "h", xLabel: "x", yLabel: "y", rowLabels: ["r0", "r1"], columnLabels: ["c0", "c1", "c2"],
            values: [[0, 0.5, nil], [1, 0.25, 0.75]], domain: 0...1, showValues: true, decimals: 2, markedRows: [1], markNote: "bad"
        ).render()
        #expect(svg.components(separatedBy: "class=\"cell\"").count - 1 == 6)
        #expect(svg.components(separatedBy: "class=\"marked-row\"").count - 1 == 1)
        for text in [">0.00<", ">0.50<", ">—<", ">1.00<", ">0.25<", ">0.75<"] { #expect(svg.contains(text), "\(text)") }
        // 0 and 1 are the scale's end colours.
        #expect(svg.contains("fill=\"#440154\"") && svg.contains("fill=\"#fde725\""))
    }
}
