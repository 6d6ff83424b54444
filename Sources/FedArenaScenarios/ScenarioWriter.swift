import FedArenaCore
import Yams

/// Writes a ``ConfigValue`` tree as YAML (keys in a stable order).
public enum ScenarioWriter {
    /// The YAML text of `tree`, with the top-level sections in the documented order.
    public static func yaml(_ tree: ConfigValue) -> String {
        let node = self.node(tree, order: ["name", "seed", "dataset", "model", "training", "clients", "attack", "defense", "transport", "output"])
        return (try? Yams.serialize(node: node, sortKeys: false)) ?? "\(tree)\n"
    }

    private static func node(_ value: ConfigValue, order: [String] = []) -> Node {
        switch value {
        case .null: return Node("null", Tag(.null))
        case .bool(let flag): return Node(flag ? "true" : "false", Tag(.bool))
        case .int(let number): return Node(String(number), Tag(.int))
        case .double(let number): return Node(String(number), Tag(.float))
        case .string(let text): return Node(text, Tag(.str), .any)
        case .array(let values): return Node(values.map { node($0) }, Tag(.seq), values.count <= 8 && values.allSatisfy(isScalar) ? .flow : .block)
        case .object(let object):
            let keys = order.filter { object[$0] != nil } + object.keys.filter { !order.contains($0) }.sorted {
                ($0 == "kind" ? "" : $0) < ($1 == "kind" ? "" : $1)
            }
            return Node(keys.map { (Node($0), node(object[$0]!)) }, Tag(.map), .block)
        }
    }

    private static func isScalar(_ value: ConfigValue) -> Bool {
        switch value {
        case .array, .object: false
        default: true
        }
    }
}
