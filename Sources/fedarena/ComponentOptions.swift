import FedArenaCore
import FedArenaScenarios
import Foundation

/// Plug-in options given as command-line flags (`--f 2 --beta 0.1 --pre '[{kind: nnm}]'`).
enum ComponentOptions {
    /// Turns `--key value` / `--key=value` pairs into a plug-in's option mapping; values are
    /// read as YAML scalars or flow collections, dashes in keys become underscores.
    /// - Throws: ``CommandFailure`` for a stray argument or a flag without a value.
    static func parse(_ arguments: [String]) throws(CommandFailure) -> [String: ConfigValue] {
        var options = [String: ConfigValue]()
        var index = 0
        while index < arguments.count {
            let flag = arguments[index]
            guard flag.hasPrefix("--"), flag.count > 2 else {
                throw CommandFailure("unexpected argument \"\(flag)\"; plug-in options are --key value pairs")
            }
            var key = String(flag.dropFirst(2))
            let value: String
            if let equals = key.firstIndex(of: "=") {
                value = String(key[key.index(after: equals)...])
                key = String(key[..<equals])
            } else {
                guard index + 1 < arguments.count else { throw CommandFailure("\(flag) needs a value") }
                value = arguments[index + 1]
                index += 1
            }
            key = key.replacingOccurrences(of: "-", with: "_")
            do {
                var document = try ScenarioDocument(yaml: "x: 0", source: "options")
                try document.apply(override: "x=\(value)")
                options[key] = document.tree[path: "x"] ?? .string(value)
            } catch {
                options[key] = .string(value)
            }
            index += 1
        }
        return options
    }
}
