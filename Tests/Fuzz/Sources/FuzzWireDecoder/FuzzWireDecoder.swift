import CFuzzerDriver
import FedArenaCore
import FedArenaWire

/// libFuzzer entry point for the wire decoder.
///
/// The first input byte picks the limits (any dimension, or dimension `byte % 16`, with small
/// list and string limits half of the time); the rest is the message. The decoder must either
/// throw a `WireError` or return a message that re-encodes to exactly the same bytes; a trap,
/// a sanitizer report or a different re-encoding is a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWireDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    let selector = data[0]
    let bytes = [UInt8](UnsafeBufferPointer(start: data + 1, count: size - 1))
    var limits = DecodeLimits(maxMessageBytes: 1 << 20)
    if selector & 0x80 != 0 { limits.expectedParameterCount = Int(selector & 0x0F) }
    if selector & 0x40 != 0 {
        limits.maxClients = 8
        limits.maxStringBytes = 32
        limits.maxMetrics = 4
    }
    do {
        let message = try WireCodec.decode(bytes, limits: limits)
        let again = WireCodec.encode(message)
        if again != bytes {
            fatalError("decoded \(message.kind) re-encodes to \(again.count) bytes, input had \(bytes.count)")
        }
    } catch {
        // Rejected with a reason: the expected outcome for most inputs.
        _ = error.code
    }
    return 0
}

/// The executable's entry point under the name SwiftPM gives it (`FuzzWireDecoder_main`): hands the
/// command line to libFuzzer's driver.
@_cdecl("FuzzWireDecoder_main")
public func fuzzWireDecoderMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in
        guard let data else { return 0 }
        return fuzzWireDecoder(data, size)
    }
}
