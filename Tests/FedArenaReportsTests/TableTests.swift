import FedArenaReports
import Testing

@Suite struct TableTests {
    @Test func csvQuotesOnlyWhatRFC4180Requires() {
        let table = Table(header: ["a", "b", "c"], rows: [["1", "x,y", "say \"hi\""], ["2", "line\nbreak"]])
        #expect(table.csv() == "a,b,c\n1,\"x,y\",\"say \"\"hi\"\"\"\n2,\"line\nbreak\",\n")
    }

    @Test func markdownPadsColumnsEscapesPipesAndAlignsNumbersRight() {
        let table = Table(header: ["name", "value"], rows: [["a|b", "1.5"], ["c", "10.25"]], rightAligned: [1])
        #expect(table.markdown() == """
            | name | value |
            | ---- | ----: |
            | a\\|b |   1.5 |
            | c    | 10.25 |

            """)
    }
}
