import FedArenaCore
import Foundation
import Yams

/// A sweep file: a base scenario and the axes to vary it along.
///
/// ```yaml
/// name: fmnist-matrix
/// base: ../quickstart.yaml            # a scenario file (relative to this file) or an inline mapping
/// set: { training.rounds: 5 }         # optional overrides of the base, as with --set
/// axes:                               # any scenario key path; combined as a product, in this order
///   attack:                           # a mapping gives each value a label (the cell folder names use it)
///     none: none
///     sign-flip: { kind: sign-flip, fraction: 0.2 }
///   defense.aggregator: [fedavg, median, { kind: krum, f: 2 }]   # a list labels values itself
///   seed: [1, 2, 3]
/// zip: [[clients.count, clients.per_round]]   # axes of a group vary together (equal lengths)
/// exclude:                            # cells to leave out: every key must match
///   - { attack: none, defense.aggregator: [median, krum] }
/// ```
public struct SweepFile: Sendable, Equatable {
    /// The sweep file (as given), for error messages and relative paths.
    public var source: String
    /// The sweep's name (default: the file name without extension).
    public var name: String
    /// The base scenario, `set` overrides applied.
    public var base: ScenarioDocument
    /// The axes, in file order.
    public var axes: [SweepAxis]
    /// Groups of axis key paths that vary together.
    public var zipGroups: [[String]]
    /// Rules that leave cells out.
    public var excludes: [SweepExcludeRule]

    /// Reads a sweep file.
    /// - Parameter path: the YAML file.
    /// - Throws: ``SweepError`` `.unreadable` for a missing file or bad YAML (the base scenario
    ///   included), `.invalidSweep` for wrong sweep keys, naming the file and the key.
    public init(contentsOf path: String) throws(SweepError) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw SweepError(.unreadable, "\(path): cannot read the sweep file: \(ScenarioDocument.reason(of: error))")
        }
        try self.init(yaml: text, source: path)
    }

    /// Parses sweep YAML held in memory.
    /// - Parameters:
    ///   - yaml: the document.
    ///   - source: the file it came from; a `base:` path is relative to its folder.
    /// - Throws: ``SweepError`` as ``init(contentsOf:)``.
    public init(yaml: String, source: String) throws(SweepError) {
        self.source = source
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw SweepError(.unreadable, "\(source): invalid YAML: \(ScenarioDocument.reason(of: error))")
        }
        guard let mapping = root?.mapping else {
            throw SweepError(.invalidSweep, "\(source): the top level must be a mapping with base and axes")
        }
        var entries = [String: Node]()
        for (keyNode, valueNode) in mapping {
            guard let key = keyNode.scalar?.string else {
                throw SweepError(.invalidSweep, "\(source): top-level keys must be plain strings")
            }
            guard Self.topLevelKeys.contains(key) else {
                throw SweepError(
                    .invalidSweep,
                    "\(source): \(key): unknown key (a sweep file has \(Self.topLevelKeys.joined(separator: ", ")); scenario keys go under base)")
            }
            entries[key] = valueNode
        }
        let defaultName = URL(fileURLWithPath: source).deletingPathExtension().lastPathComponent
        name = try entries["name"].map { (node) throws(SweepError) in try Self.string(node, key: "name", source: source) } ?? defaultName
        guard let baseNode = entries["base"] else {
            throw SweepError(.invalidSweep, "\(source): base: is required (a scenario file path or an inline scenario mapping)")
        }
        base = try Self.base(baseNode, source: source)
        if let setNode = entries["set"] {
            guard let overrides = setNode.mapping else {
                throw SweepError(.invalidSweep, "\(source): set: expected a mapping of key.path: value")
            }
            for (keyNode, valueNode) in overrides {
                guard let path = keyNode.scalar?.string, !path.isEmpty else {
                    throw SweepError(.invalidSweep, "\(source): set: keys must be key paths such as training.rounds")
                }
                let value = try Self.value(valueNode, at: "set.\(path)", source: source)
                guard base.tree.set(value, at: path.split(separator: ".").map(String.init)) else {
                    throw SweepError(.invalidSweep, "\(source): set.\(path): a parent of this key is not a mapping in the base scenario")
                }
            }
        }
        guard let axesNode = entries["axes"], let axesMapping = axesNode.mapping, !axesMapping.isEmpty else {
            throw SweepError(.invalidSweep, "\(source): axes: is required: a mapping of scenario key paths to lists of values")
        }
        var axes = [SweepAxis]()
        for (keyNode, valueNode) in axesMapping {
            guard let path = keyNode.scalar?.string, !path.isEmpty,
                path.split(separator: ".", omittingEmptySubsequences: false).allSatisfy({ !$0.isEmpty })
            else {
                throw SweepError(.invalidSweep, "\(source): axes: keys must be scenario key paths such as defense.aggregator")
            }
            if path == "name" {
                throw SweepError(.invalidSweep, "\(source): axes.name: the scenario name is set per cell by the sweep; vary another key")
            }
            axes.append(try Self.axis(path, valueNode, source: source))
        }
        self.axes = axes
        zipGroups = try Self.zipGroups(entries["zip"], axes: axes, source: source)
        excludes = try Self.excludes(entries["exclude"], axes: axes, source: source)
    }

    /// The keys a sweep file may have at its top level.
    static let topLevelKeys = ["name", "description", "base", "set", "axes", "zip", "exclude"]

    private static func base(_ node: Node, source: String) throws(SweepError) -> ScenarioDocument {
        if let path = node.scalar?.string, node.mapping == nil {
            let resolved = path.hasPrefix("/") ? path : URL(fileURLWithPath: source).deletingLastPathComponent().appendingPathComponent(path).path
            do {
                return try ScenarioDocument(contentsOf: resolved)
            } catch {
                throw SweepError(.unreadable, "\(source): base: \(error)", cause: error)
            }
        }
        guard node.mapping != nil else {
            throw SweepError(.invalidSweep, "\(source): base: expected a scenario file path or an inline scenario mapping")
        }
        return ScenarioDocument(tree: try value(node, at: "base", source: source), source: "\(source) (base)")
    }

    private static func axis(_ path: String, _ node: Node, source: String) throws(SweepError) -> SweepAxis {
        var values = [SweepAxis.Value]()
        if let sequence = node.sequence {
            for (index, element) in sequence.enumerated() {
                let value = try Self.value(element, at: "axes.\(path)[\(index)]", source: source)
                values.append(SweepAxis.Value(label: SweepAxis.label(of: value), value: value))
            }
        } else if let mapping = node.mapping {
            for (keyNode, valueNode) in mapping {
                guard let label = keyNode.scalar?.string, !label.isEmpty else {
                    throw SweepError(.invalidSweep, "\(source): axes.\(path): labels must be plain strings")
                }
                let value = try Self.value(valueNode, at: "axes.\(path).\(label)", source: source)
                values.append(SweepAxis.Value(label: SweepAxis.sanitized(label), value: value))
            }
        } else {
            throw SweepError(
                .invalidSweep,
                "\(source): axes.\(path): expected a list of values ([a, b]) or a mapping of labels to values, got a single value")
        }
        if values.isEmpty {
            throw SweepError(.invalidSweep, "\(source): axes.\(path): has no values")
        }
        var seen = [String: Int]()
        for (index, value) in values.enumerated() {
            if let first = seen[value.label] {
                throw SweepError(
                    .invalidSweep,
                    "\(source): axes.\(path): values \(first) and \(index) both get the label \"\(value.label)\"; "
                        + "give each value a label with the mapping form (label: value)")
            }
            seen[value.label] = index
        }
        return SweepAxis(keyPath: path, values: values)
    }

    private static func zipGroups(_ node: Node?, axes: [SweepAxis], source: String) throws(SweepError) -> [[String]] {
        guard let node else { return [] }
        guard let groups = node.sequence else {
            throw SweepError(.invalidSweep, "\(source): zip: expected a list of groups such as [[attack, attack.fraction]]")
        }
        var result = [[String]]()
        var used = Set<String>()
        for (index, groupNode) in groups.enumerated() {
            guard let members = groupNode.sequence?.compactMap({ $0.scalar?.string }), members.count == groupNode.sequence?.count, !members.isEmpty else {
                throw SweepError(.invalidSweep, "\(source): zip[\(index)]: expected a list of axis key paths")
            }
            var length: Int?
            for member in members {
                guard let axis = axes.first(where: { $0.keyPath == member }) else {
                    throw SweepError(.invalidSweep, "\(source): zip[\(index)]: \(member) is not an axis (axes: \(axes.map(\.keyPath).joined(separator: ", ")))")
                }
                guard used.insert(member).inserted else {
                    throw SweepError(.invalidSweep, "\(source): zip[\(index)]: axis \(member) is already in another zip group")
                }
                if let length, length != axis.values.count {
                    throw SweepError(
                        .invalidSweep,
                        "\(source): zip[\(index)]: axes of a group vary together and need as many values each; \(member) has \(axis.values.count), \(members[0]) has \(length)")
                }
                length = axis.values.count
            }
            result.append(members)
        }
        return result
    }

    private static func excludes(_ node: Node?, axes: [SweepAxis], source: String) throws(SweepError) -> [SweepExcludeRule] {
        guard let node else { return [] }
        guard let rules = node.sequence else {
            throw SweepError(.invalidSweep, "\(source): exclude: expected a list of rules such as [{attack: none, seed: 2}]")
        }
        var result = [SweepExcludeRule]()
        for (index, ruleNode) in rules.enumerated() {
            guard let mapping = ruleNode.mapping, !mapping.isEmpty else {
                throw SweepError(.invalidSweep, "\(source): exclude[\(index)]: expected a mapping of axis key paths to labels")
            }
            var rule = SweepExcludeRule(labels: [:])
            for (keyNode, valueNode) in mapping {
                guard let path = keyNode.scalar?.string, let axis = axes.first(where: { $0.keyPath == path }) else {
                    throw SweepError(
                        .invalidSweep,
                        "\(source): exclude[\(index)]: \(keyNode.scalar?.string ?? "?") is not an axis (axes: \(axes.map(\.keyPath).joined(separator: ", ")))")
                }
                let value = try Self.value(valueNode, at: "exclude[\(index)].\(path)", source: source)
                let labels: [String]
                if case .array(let elements) = value { labels = elements.map(SweepAxis.label(of:)) } else { labels = [SweepAxis.label(of: value)] }
                for label in labels where !axis.values.contains(where: { $0.label == label }) {
                    throw SweepError(
                        .invalidSweep,
                        "\(source): exclude[\(index)].\(path): \"\(label)\" is not a label of this axis (labels: \(axis.values.map(\.label).joined(separator: ", ")))")
                }
                rule.labels[path] = Set(labels)
            }
            result.append(rule)
        }
        return result
    }

    private static func string(_ node: Node, key: String, source: String) throws(SweepError) -> String {
        guard let text = node.scalar?.string, !text.isEmpty else {
            throw SweepError(.invalidSweep, "\(source): \(key): expected a string")
        }
        return text
    }

    private static func value(_ node: Node, at path: String, source: String) throws(SweepError) -> ConfigValue {
        do {
            return try ScenarioDocument.value(of: node, path: path)
        } catch {
            throw SweepError(.invalidSweep, "\(source): \(error)", cause: error)
        }
    }
}

/// One axis of a sweep: a scenario key path and the values it takes, each with a label.
public struct SweepAxis: Sendable, Equatable {
    /// One value of the axis.
    public struct Value: Sendable, Equatable {
        /// The name of the value in cell folder names, tables and exclude rules.
        public var label: String
        /// What the key is set to.
        public var value: ConfigValue
    }

    /// The dotted scenario key path (`defense.aggregator`).
    public var keyPath: String
    /// The values, in file order.
    public var values: [Value]

    /// The key path's components.
    public var components: [String] { keyPath.split(separator: ".").map(String.init) }

    /// Whether the axis changes the attack (`attack` or a key under it).
    public var isAttack: Bool { keyPath == "attack" || keyPath.hasPrefix("attack.") }

    /// A label for a value given in list form: a scalar's text, a component's `kind`, a list's
    /// labels joined by `-`; only letters, digits and `.`, `_`, `+`, `-` are kept.
    public static func label(of value: ConfigValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .int(let number): return String(number)
        case .double(let number): return sanitized(String(number))
        case .string(let text): return sanitized(text)
        case .array(let values): return values.map(label(of:)).joined(separator: "-")
        case .object(let object):
            if case .string(let kind)? = object["kind"] { return sanitized(kind) }
            return sanitized(object.keys.sorted().joined(separator: "-"))
        }
    }

    /// `text` with every character other than letters, digits, `.`, `_`, `+` and `-` replaced
    /// by `-` (cell folder names stay portable).
    public static func sanitized(_ text: String) -> String {
        let kept = text.map { character -> Character in
            if character.isASCII, character.isLetter || character.isNumber || "._+-".contains(character) { return character }
            return "-"
        }
        let result = String(kept)
        return result.isEmpty || result == "." || result == ".." ? "-" + result : result
    }
}

/// A rule of `exclude:`: a cell is left out when, for every axis the rule names, the cell's
/// label is one of the rule's labels.
public struct SweepExcludeRule: Sendable, Equatable {
    /// Axis key path → the labels that match.
    public var labels: [String: Set<String>]

    /// Whether a cell with these labels (axis key path → label) is left out.
    public func matches(_ cell: [String: String]) -> Bool {
        labels.allSatisfy { axis, accepted in cell[axis].map(accepted.contains) ?? false }
    }
}

extension ScenarioDocument {
    /// A document made of an already parsed tree (an inline base scenario).
    init(tree: ConfigValue, source: String) {
        self.source = source
        self.tree = tree
    }
}
