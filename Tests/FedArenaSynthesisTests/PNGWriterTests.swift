import FedArenaCore
import FedArenaSynthesis
import Foundation
import Testing

@Suite struct PNGWriterTests {
    @Test func chunkStructure() throws {
        let pixels: [UInt8] = [0, 64, 128, 255, 10, 20]
        let png = try PNGWriter.encode(grayscale: pixels, width: 3, height: 2)
        #expect(Array(png[0..<8]) == PNGWriter.signature)
        func uint32(_ at: Int) -> Int { png[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        // IHDR: length 13, "IHDR", width 3, height 2, depth 8, colour type 0.
        #expect(uint32(8) == 13)
        #expect(String(decoding: png[12..<16], as: UTF8.self) == "IHDR")
        #expect(uint32(16) == 3 && uint32(20) == 2)
        #expect(Array(png[24..<29]) == [8, 0, 0, 0, 0])
        let idatAt = 8 + 12 + 13
        #expect(String(decoding: png[(idatAt + 4)..<(idatAt + 8)], as: UTF8.self) == "IDAT")
        let iendAt = idatAt + 12 + uint32(idatAt)
        #expect(String(decoding: png[(iendAt + 4)..<(iendAt + 8)], as: UTF8.self) == "IEND")
        #expect(png.count == iendAt + 12)
        // The IEND CRC is the well-known constant.
        #expect(uint32(iendAt + 8) == 0xAE42_6082)
    }

    @Test func pythonZlibDecodesTheGrid() throws {
        let samples = LabeledSamples(
            features: (0..<(4 * 784)).map { Float($0 % 784) / 783 }, labels: [0, 1, 0, 1], featureCount: 784, classCount: 2)
        let png = try PNGWriter.grid(samples, columns: 2, padding: 1)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fedarena-png-\(ProcessInfo.processInfo.processIdentifier).png").path
        try Data(png).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let script = """
            import struct, sys, zlib
            data = open(sys.argv[1], 'rb').read()
            assert data[:8] == b'\\x89PNG\\r\\n\\x1a\\n'
            pos, idat, ihdr = 8, b'', None
            while pos < len(data):
                n, = struct.unpack('>I', data[pos:pos+4]); kind = data[pos+4:pos+8]; body = data[pos+8:pos+8+n]
                crc, = struct.unpack('>I', data[pos+8+n:pos+12+n])
                assert zlib.crc32(kind + body) == crc, kind
                if kind == b'IHDR': ihdr = struct.unpack('>IIBBBBB', body)
                if kind == b'IDAT': idat += body
                pos += 12 + n
            w, h = ihdr[0], ihdr[1]
            raw = zlib.decompress(idat)
            assert len(raw) == (w + 1) * h
            rows = [raw[r*(w+1)+1:(r+1)*(w+1)] for r in range(h)]
            assert all(raw[r*(w+1)] == 0 for r in range(h))
            # tile (0,0) starts at (1,1): its first pixel is 0, its last (27,27) is 255
            print(w, h, rows[1][1], rows[28][28])
            """
        guard let output = runPython(script, argument: path) else { return }  // no python3: skip
        #expect(output == "59 59 0 255")
    }

    @Test func rejectsBadInput() {
        #expect(throws: SynthesisError.self) { try PNGWriter.encode(grayscale: [1, 2], width: 3, height: 1) }
        #expect(throws: SynthesisError.self) { try PNGWriter.encode(grayscale: [], width: 0, height: 0) }
        let wrong = LabeledSamples(features: [0, 1], labels: [0], featureCount: 2, classCount: 1)
        #expect(throws: SynthesisError.self) { try PNGWriter.grid(wrong, columns: 1) }
    }

    private func runPython(_ script: String, argument: String) -> String? {
        let candidates = ["/usr/bin/python3", "/usr/local/bin/python3"]
        guard let python = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", script, argument]
        let pipe = Pipe()
        process.standardOutput = pipe
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
