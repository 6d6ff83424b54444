import FedArenaCore
import Foundation

/// Renders a ``ConfigValue`` tree as JSON text that numpy/pandas/`json.load` read back.
///
/// Keys are sorted (stable diffs), non-finite numbers become `null` (JSON has no NaN), and
/// integers stay integers.
public enum JSONText {
    /// The JSON text of `value`.
    /// - Parameters:
    ///   - value: the tree.
    ///   - pretty: indent with two spaces and one key per line.
    public static func render(_ value: ConfigValue, pretty: Bool = false) -> String {
        var output = ""
        write(value, into: &output, pretty: pretty, indent: 0)
        return output
    }

    /// A number as JSON: `null` when not finite, the shortest round-tripping form otherwise.
    public static func number(_ value: Double) -> ConfigValue {
        value.isFinite ? .double(value) : .null
    }

    private static func write(_ value: ConfigValue, into output: inout String, pretty: Bool, indent: Int) {
        switch value {
        case .null: output += "null"
        case .bool(let flag): output += flag ? "true" : "false"
        case .int(let number): output += String(number)
        case .double(let number):
            if !number.isFinite {
                output += "null"
            } else if number == number.rounded(), abs(number) < 1e15 {
                output += String(format: "%.1f", number)
            } else {
                output += "\(number)"
            }
        case .string(let text): writeString(text, into: &output)
        case .array(let values):
            if values.isEmpty { output += "[]"; return }
            let scalarsOnly = values.allSatisfy { if case .array = $0 { false } else if case .object = $0 { false } else { true } }
            if !pretty || scalarsOnly {
                output += "["
                for (index, element) in values.enumerated() {
                    if index > 0 { output += pretty ? ", " : "," }
                    write(element, into: &output, pretty: pretty, indent: indent)
                }
                output += "]"
            } else {
                output += "[\n"
                for (index, element) in values.enumerated() {
                    output += String(repeating: " ", count: indent + 2)
                    write(element, into: &output, pretty: pretty, indent: indent + 2)
                    output += index < values.count - 1 ? ",\n" : "\n"
                }
                output += String(repeating: " ", count: indent) + "]"
            }
        case .object(let object):
            if object.isEmpty { output += "{}"; return }
            let keys = object.keys.sorted()
            output += pretty ? "{\n" : "{"
            for (index, key) in keys.enumerated() {
                if pretty { output += String(repeating: " ", count: indent + 2) }
                writeString(key, into: &output)
                output += pretty ? ": " : ":"
                write(object[key]!, into: &output, pretty: pretty, indent: indent + 2)
                if index < keys.count - 1 { output += pretty ? ",\n" : "," } else if pretty { output += "\n" }
            }
            if pretty { output += String(repeating: " ", count: indent) }
            output += "}"
        }
    }

    private static func writeString(_ text: String, into output: inout String) {
        output += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            default:
                if scalar.value < 0x20 {
                    output += String(format: "\\u%04x", scalar.value)
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        output += "\""
    }
}
