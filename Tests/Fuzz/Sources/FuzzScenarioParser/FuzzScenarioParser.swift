import CFuzzerDriver
import FedArenaCore
import FedArenaRuntime
import FedArenaScenarios

/// libFuzzer entry point for the scenario parser: YAML, `--set` overrides, the schema and the
/// preflight checks.
///
/// The input is UTF-8 text; lines starting with `--set ` are applied as overrides after the
/// document is parsed. Every step must either succeed or throw a `ConfigError`; a trap or a
/// sanitizer report is a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzScenarioParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    var yaml: [Substring] = []
    var overrides: [String] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.hasPrefix("--set ") { overrides.append(String(line.dropFirst(6))) } else { yaml.append(line) }
    }
    do throws(ConfigError) {
        var document = try ScenarioDocument(yaml: yaml.joined(separator: "\n"), source: "fuzz.yaml")
        for override in overrides { try document.apply(override: override) }
        let config = try ScenarioSchema.decode(document)
        try Preflight.check(config).get()
        // The resolved tree is what scenario.yaml records: it must read back to the same scenario.
        let resolved = ScenarioWriter.yaml(ScenarioSchema.resolvedTree(config))
        let again = try ScenarioSchema.decode(try ScenarioDocument(yaml: resolved, source: "resolved.yaml"))
        if again != config {
            fatalError("the resolved scenario does not read back to the same configuration:\n\(resolved)")
        }
    } catch {
        _ = error.message
    }
    return 0
}

/// The executable's entry point under the name SwiftPM gives it (`FuzzScenarioParser_main`): hands the
/// command line to libFuzzer's driver.
@_cdecl("FuzzScenarioParser_main")
public func fuzzScenarioParserMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in
        guard let data else { return 0 }
        return fuzzScenarioParser(data, size)
    }
}
