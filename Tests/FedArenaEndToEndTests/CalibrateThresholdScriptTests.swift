import Foundation
import Testing

/// `scripts/calibrate-threshold.py` on hand-made metrics lines, thresholds derived by hand.
@Suite struct CalibrateThresholdScriptTests {
    static let script = DeployFilesTests.repository + "/scripts/calibrate-threshold.py"

    /// Writes `lines` as a run folder's metrics.jsonl and returns the folder.
    static func run(_ lines: [[String: Any]]) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("calibrate-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let text = try lines.map { String(decoding: try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]), as: UTF8.self) }.joined(separator: "\n")
        try (text + "\n").write(toFile: folder + "/metrics.jsonl", atomically: true, encoding: .utf8)
        return folder
    }

    @Test func fusedAndPerDetectorThresholds() async throws {
        // Round 1: clients 0-3 honest, 4 attacking (left out). Detector a scores 0.1, 0.2, 0.3,
        // 0.4 (0.9 for the attacker), b scores 0 everywhere. Round 2: a scores 0.3 for all.
        // Fused scores pooled: 0.1, 0.2, 0.3, 0.4 and four of 0.3 → sorted 0.1 0.2 0.3 0.3 0.3
        // 0.3 0.3 0.4; the 0.5 quantile (position 3.5) is 0.3 → threshold 0.31.
        // Per detector with smoothing 0.5: round 1 a = 0.1..0.4, round 2 (a + 0.3) / 2 = 0.2,
        // 0.25, 0.3, 0.35; b never moves, so m = 1 and a's 0.5 quantile of
        // 0.1 0.2 0.2 0.25 0.3 0.3 0.35 0.4 (position 3.5: 0.275) → 0.28.
        func line(_ round: Int, a: [Double]) -> [String: Any] {
            var scores = [String: Double]()
            var own = [String: Double]()
            var zero = [String: Double]()
            for (client, value) in a.enumerated() {
                scores[String(client)] = value
                own[String(client)] = value
                zero[String(client)] = 0
            }
            return ["round": round, "attacking": [4], "detection": ["scores": scores, "detector_scores": ["a": own, "b": zero]]]
        }
        let folder = try Self.run([line(1, a: [0.1, 0.2, 0.3, 0.4, 0.9]), line(2, a: [0.3, 0.3, 0.3, 0.3, 0.9])])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try await ChildProcess.run("/usr/bin/env", ["python3", Self.script, "--target-fpr", "0.5", "--per-detector", folder])
        #expect(result.status == 0, "\(result.output)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        #expect(json["honest_client_rounds"] as? Int == 8)
        #expect(json["threshold"] as? Double == 0.31)
        #expect((json["detector_thresholds"] as? [String: Double]) == ["a": 0.28])
    }

    @Test func recordsWithoutDetectorScoresAreNamed() async throws {
        let folder = try Self.run([["round": 1, "attacking": [], "detection": ["scores": ["0": 0.2]]]])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let plain = try await ChildProcess.run("/usr/bin/env", ["python3", Self.script, folder])
        #expect(plain.status == 0 && plain.output.contains("\"threshold\": 0.21"), "\(plain.output)")
        let perDetector = try await ChildProcess.run("/usr/bin/env", ["python3", Self.script, "--per-detector", folder])
        #expect(perDetector.status == 1 && perDetector.output.contains("has no detection.detector_scores"), "\(perDetector.output)")
    }
}
