/// A plug-in chosen in a scenario: its YAML `kind` and the rest of its options, untyped.
///
/// The plug-in's registry (in `FedArenaDefenses`, `FedArenaAttacks`, ...) turns a spec into a
/// value, reading the options through ``ConfigReader`` so that typos are reported with the
/// spec's key path.
public struct ComponentSpec: Sendable, Equatable, Codable, CustomStringConvertible {
    /// The plug-in's YAML name (`krum`, `label-flip`, ...).
    public var kind: String
    /// The remaining keys of the mapping.
    public var options: [String: ConfigValue]
    /// Where the spec sits in the scenario (`defense.aggregator`), for error messages.
    public var keyPath: String

    /// Creates a spec.
    public init(kind: String, options: [String: ConfigValue] = [:], keyPath: String) {
        self.kind = kind
        self.options = options
        self.keyPath = keyPath
    }

    /// A reader over ``options`` rooted at ``keyPath``.
    public func reader() throws(ConfigError) -> ConfigReader {
        try ConfigReader(.object(options), path: keyPath)
    }

    /// The spec as one mapping, `kind` included (for the resolved scenario).
    public var asValue: ConfigValue {
        var object = options
        object["kind"] = .string(kind)
        return .object(object)
    }

    public var description: String { asValue.description }
}
