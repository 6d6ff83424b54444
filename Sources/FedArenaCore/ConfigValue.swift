/// A configuration value as read from a scenario file, before it is typed.
///
/// Scenario files (YAML) are decoded into this tree by `FedArenaScenarios`; plug-ins read their
/// options from it through ``ConfigReader``, which reports the key path of every mistake.
public enum ConfigValue: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([ConfigValue])
    case object([String: ConfigValue])

    /// A short name of the value's type, for error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .int: "an integer"
        case .double: "a number"
        case .string: "a string"
        case .array: "a list"
        case .object: "a mapping"
        }
    }

    public var description: String {
        switch self {
        case .null: "null"
        case .bool(let value): String(value)
        case .int(let value): String(value)
        case .double(let value): String(value)
        case .string(let value): "\"\(value)\""
        case .array(let values): "[" + values.map(\.description).joined(separator: ", ") + "]"
        case .object(let object):
            "{" + object.keys.sorted().map { "\($0): \(object[$0]!)" }.joined(separator: ", ") + "}"
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([ConfigValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: ConfigValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// The value at a dotted key path (`training.rounds`), if present.
    public subscript(path path: String) -> ConfigValue? {
        var current: ConfigValue? = self
        for key in path.split(separator: ".") {
            guard case .object(let object)? = current else { return nil }
            current = object[String(key)]
        }
        return current
    }

    /// Sets the value at a dotted key path, creating intermediate mappings.
    /// - Returns: `false` when an intermediate value exists and is not a mapping.
    @discardableResult
    public mutating func set(_ value: ConfigValue, at path: [String]) -> Bool {
        guard let first = path.first else {
            self = value
            return true
        }
        var object: [String: ConfigValue]
        switch self {
        case .object(let existing): object = existing
        case .null: object = [:]
        default: return false
        }
        var child = object[first] ?? .null
        guard child.set(value, at: Array(path.dropFirst())) else { return false }
        object[first] = child
        self = .object(object)
        return true
    }
}
