import FedArenaReports
import Foundation
import Testing

@Suite struct SVGChartTests {
    @Test func ticksAreNiceMultiplesOfTheirStep() {
        #expect(SVGChart.ticks(0, 1, count: 5) == [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1])
        #expect(SVGChart.ticks(1, 2, count: 6, minimumStep: 1) == [1, 2])
        #expect(SVGChart.ticks(1, 30, count: 6, minimumStep: 1) == [5, 10, 15, 20, 25, 30])
        #expect(SVGChart.ticks(-0.13, 0.37, count: 5) == [-0.1, 0, 0.1, 0.2, 0.30000000000000004])
        #expect(SVGChart.ticks(3, 3) == [3])
        // Two values one ulp apart (means of equal weights) give their ends, not 10^17 ticks.
        #expect(SVGChart.ticks(0.05, (0.05 as Double).nextUp) == [0.05, (0.05 as Double).nextUp])
        #expect(SVGChart.ticks(1e300, 1.5e300, count: 5).count <= 7)
    }

    @Test func textIsEscapedForXML() {
        #expect(SVGChart.escape("a<b & \"c\" 'd'>") == "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;")
    }

    @Test func sequentialScaleRunsFromItsFirstToItsLastStop() {
        #expect(SVGChart.sequential(0) == "#440154")
        #expect(SVGChart.sequential(1) == "#fde725")
        #expect(SVGChart.sequential(-3) == "#440154")
        // Halfway is the middle stop exactly (five stops).
        #expect(SVGChart.sequential(0.5) == "#21918c")
    }
}
