/// A table of plug-ins by YAML `kind`, the one registry type behind the aggregator, attack,
/// detector and generator registries.
///
/// An entry names its kind, a one-line summary, its ``Entry/traits`` (what attacks, help text,
/// benchmarks and tests may ask about it without listing kinds) and how to build it from its
/// options. Lists that must cover every plug-in derive from ``entries`` rather than enumerate
/// (swift-log's `MultiplexLogHandler` and NIO's pipeline derive the same way).
///
/// ```swift
/// let entry = try registry.entry(for: spec)            // unknown kind: did-you-mean + the known ones
/// let component = try registry.make(spec, environment)  // reads the options, rejects unknown keys
/// ```
public struct Registry<Component, Environment, Traits: Sendable>: Sendable {
    /// How to build one plug-in.
    public struct Entry: Sendable {
        /// The YAML name.
        public var kind: String
        /// One line for help and the README.
        public var summary: String
        /// What the plug-in declares about itself.
        public var traits: Traits
        /// Reads the options (never ``ConfigReader/finish()``) and builds the plug-in.
        public var make: @Sendable (ConfigReader, Environment) throws(ConfigError) -> Component

        /// Creates an entry.
        public init(
            kind: String, summary: String, traits: Traits,
            make: @escaping @Sendable (ConfigReader, Environment) throws(ConfigError) -> Component
        ) {
            self.kind = kind
            self.summary = summary
            self.traits = traits
            self.make = make
        }
    }

    /// What the plug-ins are, for messages (`aggregator`, `attack`, ...).
    public var noun: String
    /// The entries by YAML name.
    public private(set) var entries: [String: Entry]

    /// Creates a registry.
    /// - Parameters:
    ///   - noun: what the plug-ins are, for messages.
    ///   - entries: the entries (a later one replaces an earlier one of the same kind).
    public init(_ noun: String, entries: [Entry]) {
        self.noun = noun
        self.entries = Dictionary(entries.map { ($0.kind, $0) }, uniquingKeysWith: { _, last in last })
    }

    /// Adds (or replaces) an entry.
    public mutating func register(_ entry: Entry) { entries[entry.kind] = entry }

    /// The known kinds, sorted.
    public var kinds: [String] { entries.keys.sorted() }

    /// The entries, sorted by kind.
    public var sortedEntries: [Entry] { kinds.map { entries[$0]! } }

    /// The entry for `kind`.
    /// - Parameters:
    ///   - kind: the YAML name.
    ///   - keyPath: where `kind` sits, for the error.
    /// - Returns: the entry.
    /// - Throws: ``ConfigError`` `.invalidValue` naming the unknown kind, the closest known one
    ///   and every known kind.
    public func entry(for kind: String, keyPath: String) throws(ConfigError) -> Entry {
        if let entry = entries[kind] { return entry }
        var message = "unknown \(noun) \"\(kind)\""
        if let guess = ConfigReader.closest(to: kind, in: kinds) { message += " (did you mean \"\(guess)\"?)" }
        message += "; known: \(kinds.joined(separator: ", "))"
        throw ConfigError(.invalidValue, keyPath: keyPath, message)
    }

    /// The entry `spec` names (its `kind` at `<keyPath>.kind`).
    /// - Throws: ``ConfigError`` for an unknown kind.
    public func entry(for spec: ComponentSpec) throws(ConfigError) -> Entry {
        try entry(for: spec.kind, keyPath: spec.keyPath.isEmpty ? "kind" : "\(spec.keyPath).kind")
    }

    /// Builds the plug-in `spec` names, reading every option and rejecting the others.
    /// - Parameters:
    ///   - spec: the plug-in's mapping.
    ///   - environment: what the entry may need from the scenario.
    /// - Returns: the plug-in.
    /// - Throws: ``ConfigError`` for an unknown kind, an unknown key, a wrong type or an
    ///   impossible value, at its key path.
    public func make(_ spec: ComponentSpec, _ environment: Environment) throws(ConfigError) -> Component {
        let entry = try entry(for: spec)
        let reader = try spec.reader()
        let component = try entry.make(reader, environment)
        try reader.finish()
        return component
    }
}

extension Registry.Entry where Environment == Void {
    /// Creates an entry whose builder needs no environment.
    public init(kind: String, summary: String, traits: Traits, make: @escaping @Sendable (ConfigReader) throws(ConfigError) -> Component) {
        self.init(kind: kind, summary: summary, traits: traits) { reader, _ throws(ConfigError) in try make(reader) }
    }
}

extension Registry.Entry where Traits == Void {
    /// Creates an entry that declares no traits.
    public init(kind: String, summary: String, make: @escaping @Sendable (ConfigReader, Environment) throws(ConfigError) -> Component) {
        self.init(kind: kind, summary: summary, traits: (), make: make)
    }
}

extension Registry.Entry where Environment == Void, Traits == Void {
    /// Creates an entry that declares no traits and needs no environment.
    public init(kind: String, summary: String, make: @escaping @Sendable (ConfigReader) throws(ConfigError) -> Component) {
        self.init(kind: kind, summary: summary, traits: ()) { reader, _ throws(ConfigError) in try make(reader) }
    }
}

extension Registry where Environment == Void {
    /// Builds the plug-in `spec` names (see ``make(_:_:)``).
    public func make(_ spec: ComponentSpec) throws(ConfigError) -> Component { try make(spec, ()) }
}

/// An error a plug-in's `init` throws for impossible parameters: its message becomes a
/// ``ConfigError`` at the offending key (``ConfigReader/building(_:_:)``).
public protocol ComponentError: Error {
    /// The sentence naming the plug-in, the value and the reason.
    var message: String { get }
}

extension AggregationError: ComponentError {}
extension AttackError: ComponentError {}
extension DetectionError: ComponentError {}
extension GeneratorError: ComponentError {}

extension ConfigReader {
    /// Runs a plug-in's throwing `init`, turning its error into ``ConfigError`` `.invalidValue`
    /// at `key` (or at this mapping's path when `key` is `nil`).
    /// - Parameters:
    ///   - key: the option the failure is reported at.
    ///   - body: the construction.
    /// - Returns: what `body` returns.
    /// - Throws: ``ConfigError`` carrying the plug-in's message.
    public func building<T, E: ComponentError>(_ key: String?, _ body: () throws(E) -> T) throws(ConfigError) -> T {
        do throws(E) {
            return try body()
        } catch {
            throw ConfigError(.invalidValue, keyPath: key.map { keyPath($0) } ?? path, error.message)
        }
    }
}
