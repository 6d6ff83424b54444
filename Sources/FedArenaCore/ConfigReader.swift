/// Reads typed options out of one mapping of a ``ConfigValue`` tree and remembers which keys
/// it read, so that ``finish()`` can reject the keys nobody asked for (typos).
///
/// ```swift
/// let reader = try ConfigReader(value, path: "defense.aggregator")
/// let f = try reader.int("f", default: 0, range: 0...)
/// try reader.finish()
/// ```
public final class ConfigReader {
    /// The dotted path of the mapping being read.
    public let path: String
    private let object: [String: ConfigValue]
    private var consumed: Set<String> = []

    /// Starts reading `value`, which must be a mapping (or null, read as empty).
    /// - Throws: ``ConfigError`` `.wrongType` when `value` is not a mapping.
    public init(_ value: ConfigValue, path: String) throws(ConfigError) {
        self.path = path
        switch value {
        case .object(let object): self.object = object
        case .null: self.object = [:]
        default: throw ConfigError(.wrongType, keyPath: path, "expected a mapping, got \(value.typeName)")
        }
    }

    /// The keys present in the mapping.
    public var keys: [String] { object.keys.sorted() }

    /// Whether `key` is present (and not null).
    public func contains(_ key: String) -> Bool {
        if case .some(.null) = object[key] { return false }
        return object[key] != nil
    }

    /// The key path of `key` inside this mapping.
    public func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The raw value of `key`, marking it as read.
    public func raw(_ key: String) -> ConfigValue? {
        consumed.insert(key)
        if case .some(.null) = object[key] { return nil }
        return object[key]
    }

    /// An error about `key`.
    public func error(_ key: String, _ message: String, code: ConfigError.Code = .invalidValue) -> ConfigError {
        ConfigError(code, keyPath: keyPath(key), message)
    }

    /// Reads an integer.
    /// - Throws: ``ConfigError`` when absent without a default, not an integer, or out of `range`.
    public func int(_ key: String, default fallback: Int? = nil, range: ClosedRange<Int>? = nil) throws(ConfigError) -> Int {
        let value: Int
        switch raw(key) {
        case nil:
            guard let fallback else { throw error(key, "is required", code: .missingKey) }
            value = fallback
        case .int(let number): value = number
        case .double(let number) where number.rounded() == number && abs(number) < 1e15: value = Int(number)
        case let other?: throw error(key, "expected an integer, got \(other.typeName) \(other)", code: .wrongType)
        }
        if let range, !range.contains(value) {
            throw error(key, "must be in \(Self.describe(range)), got \(value)")
        }
        return value
    }

    /// Reads an integer with a lower bound only.
    public func int(_ key: String, default fallback: Int? = nil, atLeast minimum: Int) throws(ConfigError) -> Int {
        let value = try int(key, default: fallback)
        if value < minimum { throw error(key, "must be at least \(minimum), got \(value)") }
        return value
    }

    /// Reads an optional integer (absent or null gives `nil`).
    public func optionalInt(_ key: String, atLeast minimum: Int) throws(ConfigError) -> Int? {
        guard contains(key) else { _ = raw(key); return nil }
        return try int(key, atLeast: minimum)
    }

    /// Reads a finite number.
    /// - Throws: ``ConfigError`` when absent without a default, not a number, or out of `range`.
    public func double(_ key: String, default fallback: Double? = nil, range: ClosedRange<Double>? = nil) throws(ConfigError) -> Double {
        let value: Double
        switch raw(key) {
        case nil:
            guard let fallback else { throw error(key, "is required", code: .missingKey) }
            value = fallback
        case .int(let number): value = Double(number)
        case .double(let number): value = number
        case let other?: throw error(key, "expected a number, got \(other.typeName) \(other)", code: .wrongType)
        }
        if !value.isFinite { throw error(key, "must be finite, got \(value)") }
        if let range, !range.contains(value) {
            throw error(key, "must be in [\(range.lowerBound), \(range.upperBound)], got \(value)")
        }
        return value
    }

    /// Reads a number that must be strictly positive.
    public func positiveDouble(_ key: String, default fallback: Double? = nil) throws(ConfigError) -> Double {
        let value = try double(key, default: fallback)
        if value <= 0 { throw error(key, "must be > 0, got \(value)") }
        return value
    }

    /// Reads a boolean.
    public func bool(_ key: String, default fallback: Bool? = nil) throws(ConfigError) -> Bool {
        switch raw(key) {
        case nil:
            guard let fallback else { throw error(key, "is required", code: .missingKey) }
            return fallback
        case .bool(let value): return value
        case let other?: throw error(key, "expected true or false, got \(other.typeName) \(other)", code: .wrongType)
        }
    }

    /// Reads a string, optionally restricted to `allowed` values.
    public func string(_ key: String, default fallback: String? = nil, allowed: [String]? = nil) throws(ConfigError) -> String {
        let value: String
        switch raw(key) {
        case nil:
            guard let fallback else { throw error(key, "is required", code: .missingKey) }
            value = fallback
        case .string(let text): value = text
        case let other?: throw error(key, "expected a string, got \(other.typeName) \(other)", code: .wrongType)
        }
        if let allowed, !allowed.contains(value) {
            var message = "unknown value \"\(value)\"; expected one of: \(allowed.joined(separator: ", "))"
            if let guess = ConfigReader.closest(to: value, in: allowed) { message += " (did you mean \"\(guess)\"?)" }
            throw error(key, message)
        }
        return value
    }

    /// Reads an optional string (absent or null gives `nil`).
    public func optionalString(_ key: String) throws(ConfigError) -> String? {
        guard contains(key) else { _ = raw(key); return nil }
        return try string(key)
    }

    /// Reads a list of integers.
    public func intArray(_ key: String, default fallback: [Int]? = nil, elementsAtLeast minimum: Int? = nil) throws(ConfigError) -> [Int] {
        switch raw(key) {
        case nil:
            guard let fallback else { throw error(key, "is required", code: .missingKey) }
            return fallback
        case .array(let values):
            var result = [Int]()
            for (index, element) in values.enumerated() {
                guard case .int(let number) = element else {
                    throw ConfigError(.wrongType, keyPath: "\(keyPath(key))[\(index)]", "expected an integer, got \(element.typeName) \(element)")
                }
                if let minimum, number < minimum {
                    throw ConfigError(.invalidValue, keyPath: "\(keyPath(key))[\(index)]", "must be at least \(minimum), got \(number)")
                }
                result.append(number)
            }
            return result
        case let other?: throw error(key, "expected a list of integers, got \(other.typeName) \(other)", code: .wrongType)
        }
    }

    /// A reader for the mapping under `key`, or `nil` when absent.
    public func child(_ key: String) throws(ConfigError) -> ConfigReader? {
        guard let value = raw(key) else { return nil }
        return try ConfigReader(value, path: keyPath(key))
    }

    /// The list under `key` (empty when absent), each element with its indexed key path.
    public func list(_ key: String) throws(ConfigError) -> [(path: String, value: ConfigValue)] {
        switch raw(key) {
        case nil: return []
        case .array(let values): return values.enumerated().map { ("\(keyPath(key))[\($0.offset)]", $0.element) }
        case let other?: throw error(key, "expected a list, got \(other.typeName)", code: .wrongType)
        }
    }

    /// Rejects every key that was present but never read.
    /// - Throws: ``ConfigError`` `.unknownKey` naming the first such key, with a suggestion.
    public func finish() throws(ConfigError) {
        let known = Array(consumed)
        for key in object.keys.sorted() where !consumed.contains(key) {
            var message = "unknown key"
            if let guess = ConfigReader.closest(to: key, in: known) { message += " (did you mean \"\(guess)\"?)" }
            if !known.isEmpty { message += "; known keys here: \(known.sorted().joined(separator: ", "))" }
            throw ConfigError(.unknownKey, keyPath: keyPath(key), message)
        }
    }

    /// The candidate nearest to `word` by edit distance, when it is near enough to be a typo.
    public static func closest(to word: String, in candidates: [String]) -> String? {
        var best: (String, Int)?
        for candidate in candidates {
            let distance = editDistance(Array(word.lowercased()), Array(candidate.lowercased()))
            if distance <= max(2, candidate.count / 3), best == nil || distance < best!.1 { best = (candidate, distance) }
        }
        return best?.0
    }

    private static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = previous
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    private static func describe(_ range: ClosedRange<Int>) -> String {
        if range.upperBound == Int.max { return "\(range.lowerBound)..." }
        return "\(range.lowerBound)...\(range.upperBound)"
    }
}
