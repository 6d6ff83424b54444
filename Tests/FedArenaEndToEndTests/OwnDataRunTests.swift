import Foundation
import Testing

/// End-to-end runs on your own data: an NPY image dataset and a CSV table, through the built
/// `fedarena` binary (coordinator and client processes, real ZeroMQ).
@Suite(.serialized) struct OwnDataRunTests {
    /// A scratch folder for the data files, removed afterwards.
    final class DataFolder {
        let path = NSTemporaryDirectory() + "fedarena-own-data-" + UUID().uuidString

        init() throws { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        deinit { try? FileManager.default.removeItem(atPath: path) }

        func write(_ bytes: [UInt8], to name: String) throws -> String {
            let file = path + "/" + name
            try Data(bytes).write(to: URL(fileURLWithPath: file))
            return file
        }
    }

    /// A deterministic value in `0..<modulus` for index `i` (Knuth's multiplicative hash).
    static func noise(_ i: Int, _ modulus: Int) -> Int { Int(((UInt64(i) &* 2_654_435_761) >> 16) & 0xFFFF) % modulus }

    /// An NPY file (format 1.0) as numpy writes it: the header dictionary padded to 64 bytes.
    static func npy(descr: String, shape: [Int], data: [UInt8]) -> [UInt8] {
        let tuple = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(tuple), }"
        header += String(repeating: " ", count: 63 - (10 + header.utf8.count) % 64) + "\n"
        let length = header.utf8.count
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)] + Array(header.utf8) + data
    }

    /// `count` 1x4x4 uint8 images of 4 classes: class c lights the c-th 2x2 quadrant (200 + noise),
    /// the rest is dark noise below 40. Returns the pixels and the int64 labels' bytes.
    static func quadrantImages(count: Int, offset: Int) -> (pixels: [UInt8], labels: [UInt8]) {
        var pixels = [UInt8]()
        var labels = [UInt8]()
        for sample in 0..<count {
            let label = noise(sample + offset, 4)
            for y in 0..<4 {
                for x in 0..<4 {
                    let lit = (y / 2) * 2 + x / 2 == label
                    pixels.append(UInt8(lit ? 200 + noise(16 * (sample + offset) + 4 * y + x, 50) : noise(16 * (sample + offset) + 4 * y + x, 40)))
                }
            }
            labels += (0..<8).map { $0 == 0 ? UInt8(label) : 0 }
        }
        return (pixels, labels)
    }

    @Test func npyImagesRunEndToEnd() async throws {
        let data = try DataFolder()
        let train = Self.quadrantImages(count: 400, offset: 0)
        let test = Self.quadrantImages(count: 100, offset: 10_000)
        let x = try data.write(Self.npy(descr: "|u1", shape: [400, 1, 4, 4], data: train.pixels), to: "x.npy")
        let y = try data.write(Self.npy(descr: "<i8", shape: [400], data: train.labels), to: "y.npy")
        let tx = try data.write(Self.npy(descr: "|u1", shape: [100, 1, 4, 4], data: test.pixels), to: "tx.npy")
        let ty = try data.write(Self.npy(descr: "<i8", shape: [100], data: test.labels), to: "ty.npy")
        let scenario = """
            name: own-npy
            seed: 3
            dataset: { name: npy, train: \(x), train_labels: \(y), test: \(tx), test_labels: \(ty), shape: [1, 4, 4], root_samples: 20 }
            model: { kind: softmax }
            training: { rounds: 4, local_epochs: 1, batch_size: 16, lr: 0.5 }
            clients: { count: 4, per_round: 4, processes: 2 }
            defense: { aggregator: { kind: fltrust } }
            transport: { endpoint: "tcp://127.0.0.1:0", round_timeout_s: 30 }
            """
        let run = try await FedArenaProcess.run(scenario: scenario, name: "own-npy")
        #expect(run.exitCode == 0, "\(run.output)")
        let summary = try run.summary()
        #expect(summary["rounds_completed"] as? Int == 4)
        // Four classes (chance 0.25); each class lights its own quadrant, which softmax separates.
        let accuracy = try #require(summary["final_accuracy"] as? Double)
        #expect(accuracy > 0.9, "final accuracy \(accuracy)")
        // Softmax on 16 inputs and 4 classes: 16 x 4 weights + 4 biases, float32, after a 128-byte header.
        let model = try Data(contentsOf: URL(fileURLWithPath: run.folder + "/model-final.npy"))
        let expectedBytes: Int = 128 + 4 * (16 * 4 + 4)
        #expect(model.count == expectedBytes)
        let resolved = try String(contentsOfFile: run.folder + "/scenario.yaml", encoding: .utf8)
        #expect(resolved.contains("classes: 4"), "\(resolved)")
    }

    @Test func csvTableRunsEndToEndWithTheSortedPartition() async throws {
        let data = try DataFolder()
        /// Rows of 3 classes: feature c of class c is 1 plus noise, the others noise in [-0.2, 0.2).
        func table(count: Int, offset: Int) -> String {
            var lines = ["f0,y,f1,f2"]
            for sample in 0..<count {
                let label = Self.noise(sample + offset, 3)
                let features = (0..<3).map { feature in
                    Double(feature == label ? 100 : 0) / 100 + Double(Self.noise(3 * (sample + offset) + feature, 40) - 20) / 100
                }
                lines.append("\(features[0]),\(label),\(features[1]),\(features[2])")
            }
            return lines.joined(separator: "\n") + "\n"
        }
        let train = try data.write(Array(table(count: 300, offset: 0).utf8), to: "train.csv")
        let test = try data.write(Array(table(count: 90, offset: 5_000).utf8), to: "test.csv")
        let scenario = """
            name: own-csv
            seed: 5
            dataset: { name: csv, train: \(train), test: \(test), label_column: y, partition: { kind: sorted } }
            model: { kind: mlp, hidden: [8] }
            training: { rounds: 6, local_epochs: 2, batch_size: 16, lr: 0.2 }
            clients: { count: 6, per_round: 6, processes: 3 }
            transport: { endpoint: "tcp://127.0.0.1:0", round_timeout_s: 30 }
            """
        let run = try await FedArenaProcess.run(scenario: scenario, name: "own-csv")
        #expect(run.exitCode == 0, "\(run.output)")
        let summary = try run.summary()
        #expect(summary["rounds_completed"] as? Int == 6)
        let accuracy = try #require(summary["final_accuracy"] as? Double)
        #expect(accuracy > 0.8, "final accuracy \(accuracy) (chance 1/3)")
        // MLP 3-8-3: 3 x 8 + 8 + 8 x 3 + 3 parameters.
        let model = try Data(contentsOf: URL(fileURLWithPath: run.folder + "/model-final.npy"))
        let expectedBytes: Int = 128 + 4 * (3 * 8 + 8 + 8 * 3 + 3)
        #expect(model.count == expectedBytes)
    }

    @Test func aBrokenFileStopsTheRunBeforeAnyProcessStarts() async throws {
        let data = try DataFolder()
        let x = try data.write(Self.npy(descr: "|u1", shape: [10, 4], data: [UInt8](repeating: 1, count: 40)), to: "x.npy")
        let y = try data.write(Self.npy(descr: "<i8", shape: [9], data: [UInt8](repeating: 0, count: 72)), to: "y.npy")
        let scenario = """
            name: broken
            dataset: { name: npy, train: \(x), train_labels: \(y), test: \(x), test_labels: \(y) }
            training: { rounds: 1 }
            clients: { count: 2 }
            """
        let run = try await FedArenaProcess.run(scenario: scenario, name: "own-broken")
        #expect(run.exitCode == 2, "\(run.output)")
        #expect(run.output.contains("dataset.train_labels: \(y): malformed file: 9 labels for the 10 samples of \(x)"), "\(run.output)")
        #expect(!FileManager.default.fileExists(atPath: run.folder + "/logs"))
    }
}
