import CZlib
import FedArenaCore
import Foundation

/// Encodes 8-bit grayscale images as PNG (W3C, *Portable Network Graphics (PNG)
/// Specification*, 2nd ed., 2003): the signature, one `IHDR` (bit depth 8, colour type 0), one
/// `IDAT` holding the zlib stream of the filtered scanlines (filter type 0 on every line,
/// compressed with zlib `compress2`), and `IEND`; every chunk ends with its CRC-32 (zlib `crc32`)
/// over type and data.
///
/// ``grid(_:columns:imageWidth:imageHeight:padding:)`` lays a sample set out as one image per
/// cell: one row per class (in class order), the first `columns` samples of that class across.
public enum PNGWriter {
    /// The 8-byte PNG signature.
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Encodes one grayscale image.
    /// - Parameters:
    ///   - pixels: `width * height` bytes, row-major, 0 black and 255 white.
    ///   - width: pixels per row, ≥ 1.
    ///   - height: rows, ≥ 1.
    /// - Returns: the PNG file's bytes.
    /// - Throws: ``SynthesisError`` `.invalidArgument` for bad sizes, `.compressionFailed` if zlib fails.
    public static func encode(grayscale pixels: [UInt8], width: Int, height: Int) throws(SynthesisError) -> [UInt8] {
        guard width >= 1, height >= 1, width <= 1 << 24, height <= 1 << 24 else {
            throw SynthesisError(.invalidArgument, "PNG size must be positive, got \(width) x \(height)")
        }
        guard pixels.count == width * height else {
            throw SynthesisError(.invalidArgument, "PNG needs \(width * height) pixels for \(width) x \(height), got \(pixels.count)")
        }
        var raw = [UInt8]()
        raw.reserveCapacity((width + 1) * height)
        for row in 0..<height {
            raw.append(0)  // filter type None
            raw.append(contentsOf: pixels[(row * width)..<((row + 1) * width)])
        }
        var compressedLength = compressBound(uLong(raw.count))
        var compressed = [UInt8](repeating: 0, count: Int(compressedLength))
        let status = compress2(&compressed, &compressedLength, raw, uLong(raw.count), 9)
        guard status == Z_OK else { throw SynthesisError(.compressionFailed, "zlib compress2 returned \(status)") }
        compressed.removeSubrange(Int(compressedLength)...)

        var header = [UInt8]()
        appendBigEndian(UInt32(width), to: &header)
        appendBigEndian(UInt32(height), to: &header)
        header += [8, 0, 0, 0, 0]  // bit depth 8, grayscale, deflate, adaptive filtering, no interlace
        var file = signature
        appendChunk("IHDR", header, to: &file)
        appendChunk("IDAT", compressed, to: &file)
        appendChunk("IEND", [], to: &file)
        return file
    }

    /// Lays `samples` out as a grid (rows = classes that occur, in class order; columns = their
    /// first `columns` samples) of `imageWidth x imageHeight` tiles separated by `padding`
    /// black pixels, and encodes it. Features in [0, 1] map to 0...255 (clipped, rounded).
    /// - Parameters:
    ///   - samples: features of `imageWidth * imageHeight` values each.
    ///   - columns: samples per class row, ≥ 1.
    ///   - imageWidth: tile width (28 for Fashion-MNIST).
    ///   - imageHeight: tile height.
    ///   - padding: pixels between tiles and around the grid.
    /// - Returns: the PNG bytes.
    /// - Throws: ``SynthesisError`` `.invalidArgument` when the feature count is not
    ///   `imageWidth * imageHeight` or the set is empty.
    public static func grid(
        _ samples: LabeledSamples, columns: Int, imageWidth: Int = 28, imageHeight: Int = 28, padding: Int = 2
    ) throws(SynthesisError) -> [UInt8] {
        guard samples.featureCount == imageWidth * imageHeight else {
            throw SynthesisError(.invalidArgument, "grid tiles are \(imageWidth) x \(imageHeight) but samples have \(samples.featureCount) features")
        }
        guard columns >= 1, padding >= 0 else { throw SynthesisError(.invalidArgument, "grid needs columns ≥ 1 and padding ≥ 0") }
        var rowsByClass = [[Int]](repeating: [], count: samples.classCount)
        for (index, label) in samples.labels.enumerated() where rowsByClass[Int(label)].count < columns {
            rowsByClass[Int(label)].append(index)
        }
        let rows = rowsByClass.filter { !$0.isEmpty }
        guard !rows.isEmpty else { throw SynthesisError(.invalidArgument, "grid of an empty sample set") }
        let width = columns * (imageWidth + padding) + padding
        let height = rows.count * (imageHeight + padding) + padding
        var pixels = [UInt8](repeating: 0, count: width * height)
        for (gridRow, indices) in rows.enumerated() {
            for (gridColumn, index) in indices.enumerated() {
                let top = padding + gridRow * (imageHeight + padding)
                let left = padding + gridColumn * (imageWidth + padding)
                for y in 0..<imageHeight {
                    for x in 0..<imageWidth {
                        let value = samples.features[index * samples.featureCount + y * imageWidth + x]
                        pixels[(top + y) * width + left + x] = byte(value)
                    }
                }
            }
        }
        return try encode(grayscale: pixels, width: width, height: height)
    }

    /// Writes ``grid(_:columns:imageWidth:imageHeight:padding:)`` to `path`.
    /// - Throws: as `grid`, and ``SynthesisError`` `.ioError` when the file cannot be written.
    public static func writeGrid(_ samples: LabeledSamples, columns: Int, to path: String) throws(SynthesisError) {
        let bytes = try grid(samples, columns: columns)
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        } catch {
            throw SynthesisError(.ioError, "cannot write \(path): \(error)")
        }
    }

    /// A [0, 1] value as a byte (NaN is 0).
    static func byte(_ value: Float) -> UInt8 {
        let clipped = value > 0 ? (value < 1 ? value : 1) : 0
        return UInt8((clipped * 255).rounded())
    }

    private static func appendChunk(_ type: String, _ data: [UInt8], to file: inout [UInt8]) {
        let typeBytes = Array(type.utf8)
        appendBigEndian(UInt32(data.count), to: &file)
        let body = typeBytes + data
        file += body
        let crc = body.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
        appendBigEndian(UInt32(crc), to: &file)
    }

    private static func appendBigEndian(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes += [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
}
