import Foundation
import Logging
import Testing

@testable import fedarena

/// JSON log lines: one object per line with time, level, label, message and metadata.
@Suite struct JSONLogHandlerTests {
    /// Logs through a handler writing into a pipe, and returns the lines written.
    static func lines(level: Logger.Level = .info, _ body: (inout Logger) -> Void) throws -> [String] {
        let pipe = Pipe()
        let output = JSONLogHandler.Output(descriptor: pipe.fileHandleForWriting.fileDescriptor)
        var logger = Logger(label: "client-3") { label in JSONLogHandler(label: label, output: output, level: level) }
        body(&logger)
        try pipe.fileHandleForWriting.close()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
    }

    @Test func oneObjectPerLineWithTheFiveKeys() throws {
        let before = Date()
        let lines = try Self.lines { logger in
            logger[metadataKey: "process_index"] = "3"
            logger.warning("round 2: \"late\"\nupdate", metadata: ["round": "2", "process_index": "4"])
        }
        let after = Date()
        try #require(lines.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["time", "level", "label", "message", "metadata"])
        #expect(object["level"] as? String == "warning")
        #expect(object["label"] as? String == "client-3")
        // Quotes and the newline are escaped: the message stays on its line, intact.
        #expect(object["message"] as? String == "round 2: \"late\"\nupdate")
        // The event's metadata wins over the logger's for the same key.
        #expect(object["metadata"] as? [String: String] == ["round": "2", "process_index": "4"])
        let time = try #require(object["time"] as? String)
        #expect(time.hasSuffix("Z") && time.count == "2026-05-01T12:00:00.123Z".count, "\(time)")
        let parsed = try Date(time, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        #expect(parsed >= before.addingTimeInterval(-0.001) && parsed <= after.addingTimeInterval(0.001))
    }

    @Test func nestedMetadataBecomesArraysAndObjects() throws {
        let lines = try Self.lines { logger in
            logger.info("excluded", metadata: ["clients": [.string("1"), .stringConvertible(2)], "scores": ["1": "0.9", "2": ["a", "b"]]])
        }
        let line = try JSONDecoder().decode(JSONLogHandler.Line.self, from: Data(try #require(lines.first).utf8))
        #expect(line.metadata["clients"] == .array([.string("1"), .string("2")]))
        #expect(line.metadata["scores"] == .object(["1": .string("0.9"), "2": .array([.string("a"), .string("b")])]))
    }

    @Test func theLevelFiltersAndEmptyMetadataIsAnObject() throws {
        let lines = try Self.lines(level: .notice) { logger in
            logger.info("dropped")
            logger.notice("kept")
            logger.error("also kept")
        }
        #expect(lines.count == 2)
        #expect(lines.first?.contains("\"metadata\":{}") == true, "\(lines)")
        #expect(lines.allSatisfy { !$0.contains("dropped") })
    }

    @Test func progressNotesKeepTheirLevel() {
        #expect(ProcessLog.splitLevel("warning: process 2 sent a stale round") == (.warning, "process 2 sent a stale round"))
        #expect(ProcessLog.splitLevel("error: x") == (.error, "x"))
        #expect(
            ProcessLog.splitLevel("coordinator listening on tcp://0.0.0.0:5555; waiting")
                == (.notice, "coordinator listening on tcp://0.0.0.0:5555; waiting"))
    }

    @Test func autoIsJSONOffATerminal() {
        #expect(LogFormat.auto.resolved(terminal: false) == .json)
        #expect(LogFormat.auto.resolved(terminal: true) == .text)
        #expect(LogFormat.text.resolved(terminal: false) == .text)
        #expect(LogFormat.json.resolved(terminal: true) == .json)
    }
}
