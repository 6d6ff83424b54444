import FedArenaCore
import FedArenaReports
import Foundation
import Testing

@Suite struct JSONTextTests {
    @Test func rendersSortedKeysNullsForNonFiniteAndEscapes() {
        let value: ConfigValue = .object([
            "b": .double(.nan), "a": .int(3), "c": .string("say \"hi\"\n\t\u{1}"), "d": .array([.double(0.5), .double(2)]),
            "e": .null, "f": .bool(false),
        ])
        #expect(JSONText.render(value) == #"{"a":3,"b":null,"c":"say \"hi\"\n\t\u0001","d":[0.5,2.0],"e":null,"f":false}"#)
        #expect(JSONText.number(.infinity) == .null)
        #expect(JSONText.number(0.25) == .double(0.25))
    }

    @Test func prettyOutputIsValidJSONThatPythonStyleReadersAccept() throws {
        let value: ConfigValue = .object(["rows": .array([.object(["x": .int(1)]), .object(["x": .int(2)])]), "name": .string("é")])
        let text = JSONText.render(value, pretty: true)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(parsed["name"] as? String == "é")
        #expect((parsed["rows"] as? [[String: Any]])?.map { $0["x"] as? Int } == [1, 2])
    }

    @Test func jsonLinesFileAppendsOneObjectPerLine() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fedarena-jsonl-\(getpid()).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try JSONLinesFile(path: path)
        try file.append(.object(["round": .int(1), "accuracy": .double(0.5)]))
        try file.append(.object(["round": .int(2), "accuracy": .double(.nan)]))
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines == [#"{"accuracy":0.5,"round":1}"#, #"{"accuracy":null,"round":2}"#])
    }

    @Test func unwritablePathsAreReported() {
        #expect(throws: ReportError.self) { try JSONLinesFile(path: "/nonexistent-dir/x.jsonl") }
    }

    @Test func durationsAreHumanReadable() {
        #expect(ProgressLine.duration(3.25) == "3.2s" || ProgressLine.duration(3.25) == "3.3s")
        #expect(ProgressLine.duration(125) == "2m05s")
        #expect(ProgressLine.duration(.nan) == "-")
    }
}
