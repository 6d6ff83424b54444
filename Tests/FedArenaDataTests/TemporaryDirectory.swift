import Foundation

/// A fresh folder under the system's temporary directory, removed when released.
final class TemporaryDirectory {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "fedarena-data-tests-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// The path of `name` inside the folder.
    func file(_ name: String) -> String { path + "/" + name }

    /// Writes `bytes` to `name` and returns its path.
    @discardableResult
    func write(_ bytes: [UInt8], to name: String) -> String {
        let target = file(name)
        _ = FileManager.default.createFile(atPath: target, contents: Data(bytes))
        return target
    }

    /// The bytes of `name`.
    func read(_ name: String) -> [UInt8] { [UInt8](FileManager.default.contents(atPath: file(name)) ?? Data()) }
}

/// A plain IDX header for unsigned bytes with `dimensions`.
func idxHeader(_ dimensions: [Int], type: UInt8 = 0x08) -> [UInt8] {
    var bytes: [UInt8] = [0, 0, type, UInt8(dimensions.count)]
    for dimension in dimensions {
        bytes += [UInt8(dimension >> 24 & 0xFF), UInt8(dimension >> 16 & 0xFF), UInt8(dimension >> 8 & 0xFF), UInt8(dimension & 0xFF)]
    }
    return bytes
}
