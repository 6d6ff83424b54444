import CZlib
import Foundation

/// A decoded 8-bit PNG (grey, RGB, grey + alpha or RGBA, not interlaced): enough to check
/// that a browser screenshot is not blank.
struct PNGImage {
    struct DecodeError: Error, CustomStringConvertible {
        var description: String
    }

    var width: Int
    var height: Int
    /// Channels per pixel.
    var channels: Int
    /// Unfiltered rows, `width * channels` bytes each.
    var pixels: [UInt8]

    init(contentsOf path: String) throws {
        let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        guard data.count > 8, data.prefix(8) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else {
            throw DecodeError(description: "\(path) is not a PNG")
        }
        func integer(_ at: Int) -> Int { data[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        var offset = 8
        var compressed = [UInt8]()
        var header: (width: Int, height: Int, depth: UInt8, color: UInt8, interlace: UInt8)?
        while offset + 8 <= data.count {
            let length = integer(offset)
            let type = String(decoding: data[offset + 4..<offset + 8], as: UTF8.self)
            let body = offset + 8
            guard body + length <= data.count else { throw DecodeError(description: "\(path): truncated \(type) chunk") }
            if type == "IHDR" {
                header = (integer(body), integer(body + 4), data[body + 8], data[body + 9], data[body + 12])
            } else if type == "IDAT" {
                compressed += data[body..<body + length]
            } else if type == "IEND" {
                break
            }
            offset = body + length + 4
        }
        guard let header, header.depth == 8, header.interlace == 0 else {
            throw DecodeError(description: "\(path): only 8-bit non-interlaced PNGs are decoded here")
        }
        let channels: Int
        switch header.color {
        case 0: channels = 1
        case 2: channels = 3
        case 4: channels = 2
        case 6: channels = 4
        default: throw DecodeError(description: "\(path): colour type \(header.color) (palette) is not decoded here")
        }
        let stride = header.width * channels
        var raw = [UInt8](repeating: 0, count: (stride + 1) * header.height)
        var size = uLongf(raw.count)
        let status = raw.withUnsafeMutableBufferPointer { output in
            compressed.withUnsafeBufferPointer { input in
                uncompress(output.baseAddress, &size, input.baseAddress, uLong(input.count))
            }
        }
        guard status == Z_OK, Int(size) == raw.count else { throw DecodeError(description: "\(path): zlib status \(status)") }
        // Undo the per-row filters (PNG spec §9: none, sub, up, average, Paeth).
        var pixels = [UInt8](repeating: 0, count: stride * header.height)
        for row in 0..<header.height {
            let filter = raw[row * (stride + 1)]
            for column in 0..<stride {
                let x = Int(raw[row * (stride + 1) + 1 + column])
                let a = column >= channels ? Int(pixels[row * stride + column - channels]) : 0
                let b = row > 0 ? Int(pixels[(row - 1) * stride + column]) : 0
                let c = row > 0 && column >= channels ? Int(pixels[(row - 1) * stride + column - channels]) : 0
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) / 2
                case 4:
                    let p = a + b - c
                    let (pa, pb, pc) = (abs(p - a), abs(p - b), abs(p - c))
                    predictor = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                default: throw DecodeError(description: "\(path): unknown filter \(filter) in row \(row)")
                }
                pixels[row * stride + column] = UInt8((x + predictor) & 0xFF)
            }
        }
        width = header.width
        height = header.height
        self.channels = channels
        self.pixels = pixels
    }

    /// The grey level (mean of the colour channels) of every pixel.
    var greyLevels: [Double] {
        let colours = channels >= 3 ? 3 : 1
        return (0..<width * height).map { index in
            (0..<colours).reduce(0) { $0 + Double(pixels[index * channels + $1]) } / Double(colours)
        }
    }

    /// Distinct RGB colours (at most `limit` counted).
    func distinctColours(limit: Int = 10_000) -> Int {
        var seen = Set<Int>()
        for index in 0..<width * height {
            let base = index * channels
            let value = channels >= 3 ? Int(pixels[base]) << 16 | Int(pixels[base + 1]) << 8 | Int(pixels[base + 2]) : Int(pixels[base])
            seen.insert(value)
            if seen.count >= limit { break }
        }
        return seen.count
    }
}
