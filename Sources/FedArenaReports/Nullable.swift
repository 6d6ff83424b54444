/// An optional record field that is written as JSON `null` when absent, never left out.
///
/// The run-record contract (DESIGN.md) says values that are not defined for a run are `null`.
/// Swift's synthesised `Encodable` skips `nil` optionals; a field wrapped in `@Nullable` is
/// always written, and a missing key decodes as `nil` (so older files still load).
@propertyWrapper
public struct Nullable<Value: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    /// The value, or `nil` for `null`.
    public var wrappedValue: Value?

    /// Wraps a value.
    public init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        wrappedValue = container.decodeNil() ? nil : try container.decode(Value.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}

extension KeyedDecodingContainer {
    /// A missing `@Nullable` key decodes as `nil` instead of failing.
    public func decode<Value>(_ type: Nullable<Value>.Type, forKey key: Key) throws -> Nullable<Value> {
        try decodeIfPresent(type, forKey: key) ?? Nullable(wrappedValue: nil)
    }
}

/// `value` when finite, else `nil` (JSON has no NaN or infinity).
@inlinable
public func finiteOrNil(_ value: Double) -> Double? { value.isFinite ? value : nil }

/// `value` when finite, else `nil`.
@inlinable
public func finiteOrNil(_ value: Double?) -> Double? { value.flatMap(finiteOrNil) }
