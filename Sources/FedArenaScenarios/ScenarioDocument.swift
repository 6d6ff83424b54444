import FedArenaCore
import Foundation
import Yams

/// A scenario file read into an untyped tree, with `--set` overrides applied.
///
/// Reading happens in two steps so that every mistake names its key path: the YAML is parsed
/// into a ``ConfigValue`` tree here, then ``ScenarioSchema`` types and validates it.
public struct ScenarioDocument: Sendable, Equatable {
    /// The file the scenario came from (as given), for error messages.
    public var source: String
    /// The tree after overrides.
    public var tree: ConfigValue

    /// The folder relative dataset paths resolve against: the scenario file's folder (the
    /// working directory for a document parsed from memory).
    public var directory: String {
        URL(fileURLWithPath: source).deletingLastPathComponent().path
    }

    /// Reads and parses a scenario file.
    /// - Parameter path: the YAML file.
    /// - Throws: ``ConfigError`` `.unreadable` naming the file and, for YAML syntax errors, the
    ///   line and column.
    public init(contentsOf path: String) throws(ConfigError) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(.unreadable, keyPath: "", "cannot read the scenario file: \(Self.reason(of: error))", file: path)
        }
        try self.init(yaml: text, source: path)
    }

    /// Parses scenario YAML held in memory.
    /// - Parameters:
    ///   - yaml: the document.
    ///   - source: a name for error messages.
    /// - Throws: ``ConfigError`` for syntax errors, duplicate keys or a top level that is not a mapping.
    public init(yaml: String, source: String) throws(ConfigError) {
        self.source = source
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigError(.unreadable, keyPath: "", "invalid YAML: \(Self.reason(of: error))", file: source)
        }
        guard let node else {
            throw ConfigError(.unreadable, keyPath: "", "the file is empty", file: source)
        }
        do {
            tree = try Self.value(of: node, path: "")
        } catch {
            throw error.inFile(source)
        }
        guard case .object = tree else {
            throw ConfigError(.wrongType, keyPath: "", "the top level must be a mapping of sections (name, seed, dataset, ...)", file: source)
        }
    }

    /// Applies one `key.path=value` override; the value is read as a YAML scalar or flow
    /// collection (`5`, `0.3`, `true`, `[100, 50]`, `{kind: median}`).
    /// - Throws: ``ConfigError`` when the override is not of the form `key.path=value`, or
    ///   would replace a scalar with a mapping.
    public mutating func apply(override: String) throws(ConfigError) {
        guard let equals = override.firstIndex(of: "=") else {
            throw ConfigError(.invalidValue, keyPath: "", "--set \(override): expected key.path=value", file: source)
        }
        let path = String(override[..<equals]).trimmingCharacters(in: .whitespaces)
        let text = String(override[override.index(after: equals)...])
        let components = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !path.isEmpty, components.allSatisfy({ !$0.isEmpty }) else {
            throw ConfigError(.invalidValue, keyPath: path, "--set \(override): the key path is empty or has an empty component", file: source)
        }
        var value = ConfigValue.string(text)
        if let node = try? Yams.compose(yaml: text), let parsed = try? Self.value(of: node, path: path) {
            value = parsed
        }
        guard tree.set(value, at: components) else {
            throw ConfigError(.wrongType, keyPath: path, "--set \(override): a parent of this key is not a mapping", file: source)
        }
    }

    static func value(of node: Node, path: String) throws(ConfigError) -> ConfigValue {
        switch node {
        case .scalar(let scalar):
            // Quoted scalars stay strings; plain ones resolve like YAML 1.1 core types.
            guard scalar.style == .plain else { return .string(scalar.string) }
            if node.null != nil { return .null }
            if let value = node.bool { return .bool(value) }
            // YAML 1.1 reads `1:30` as the base-60 number 90, and Yams traps on an overflowing
            // one (found by Tests/Fuzz: `2222220000000000001:3971058432973:392`). No scenario
            // value is written that way: such a scalar stays a string, which the schema refuses
            // where it wants a number.
            if scalar.string.contains(":") { return .string(scalar.string) }
            if let value = node.int { return .int(value) }
            if let value = node.float { return .double(value) }
            return .string(scalar.string)
        case .sequence(let sequence):
            var values = [ConfigValue]()
            for (index, element) in sequence.enumerated() {
                values.append(try value(of: element, path: "\(path)[\(index)]"))
            }
            return .array(values)
        case .mapping(let mapping):
            var object = [String: ConfigValue]()
            for (keyNode, valueNode) in mapping {
                guard case .scalar(let key) = keyNode else {
                    throw ConfigError(.wrongType, keyPath: path, "mapping keys must be plain strings")
                }
                let childPath = path.isEmpty ? key.string : "\(path).\(key.string)"
                if object[key.string] != nil {
                    throw ConfigError(.invalidValue, keyPath: childPath, "duplicate key")
                }
                object[key.string] = try value(of: valueNode, path: childPath)
            }
            return .object(object)
        case .alias:
            throw ConfigError(.wrongType, keyPath: path, "YAML aliases are not supported in scenarios")
        }
    }

    static func reason(of error: any Error) -> String {
        if let yaml = error as? YamlError {
            return "\(yaml)".split(separator: "\n").prefix(3).joined(separator: " ")
        }
        return (error as NSError).localizedDescription
    }
}
