import FedArenaNumerics
import FedArenaWire
import Testing

/// Bit-at-a-time CRC-32 (IEEE, reflected 0xEDB88320): the reference for the table-driven one.
private func referenceCRC32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return crc ^ 0xFFFF_FFFF
}

struct CRC32Tests {
    @Test func knownCheckValues() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
        #expect(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
    }

    @Test(arguments: [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 4099])
    func matchesBitwiseReference(length: Int) {
        var rng = SeededGenerator(seed: 7, stream: [UInt64(length)])
        let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        #expect(CRC32.checksum(bytes) == referenceCRC32(bytes))
    }

    @Test func incrementalUpdatesEqualOneShot() {
        var rng = SeededGenerator(seed: 11)
        let bytes = (0..<777).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        for split in [0, 1, 5, 8, 300, 776, 777] {
            var crc = CRC32()
            crc.update(bytes[..<split])
            crc.update(bytes[split...])
            #expect(crc.value == referenceCRC32(bytes), "split at \(split)")
        }
    }
}
