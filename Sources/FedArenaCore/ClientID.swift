/// The identity of one logical federated client, stable for a whole run.
///
/// Clients are numbered `0..<clients.count`; the number decides the client's data partition,
/// its role (honest or malicious) and its random streams, never the OS process that hosts it.
public struct ClientID: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The client's index, `0..<clients.count`.
    public var rawValue: Int

    /// Creates an identifier from a client index.
    public init(_ rawValue: Int) { self.rawValue = rawValue }

    public static func < (lhs: ClientID, rhs: ClientID) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { "client \(rawValue)" }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(Int.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
