import FedArenaCore
import Foundation

/// Who may connect to a CURVE server: each admitted public key bound to one identity.
///
/// The coordinator's ZAP handler admits only the keys listed as client processes and reports
/// the bound process index with every message of that connection
/// (``FedArenaCore/InboundMessage/authenticatedProcess``), so a process cannot speak for
/// another index. The adversary process also admits the coordinator's key.
///
/// ## File format (`allow-list.json`, written by `fedarena keys generate`)
/// ```json
/// {
///   "format": "fedarena-curve-allow-list-1",
///   "coordinator": "<Z85 public key>",
///   "adversary": "<Z85 public key>",
///   "clients": [ { "process_index": 0, "public_key": "<Z85>" }, ... ]
/// }
/// ```
/// Public keys only: the file can be shared; secret keys live in `*.key` files.
public struct CurveAllowList: Sendable, Equatable {
    /// The admitted keys and who each one is.
    public private(set) var entries: [CurvePublicKey: AuthenticatedPeer]
    /// The coordinator's public key (clients authenticate the server with it).
    public var coordinator: CurvePublicKey?
    /// The adversary process's public key, when the key folder has one.
    public var adversary: CurvePublicKey?

    /// The format tag of the file.
    public static let format = "fedarena-curve-allow-list-1"

    /// Creates a list.
    /// - Parameters:
    ///   - clients: The key of each client process index.
    ///   - coordinator: The coordinator's public key (admitted as ``FedArenaCore/AuthenticatedPeer/coordinator``).
    ///   - adversary: The adversary's public key (not admitted anywhere; clients use it to
    ///     authenticate the adversary server).
    /// - Throws: ``CurveKeyError`` `.duplicate` when a key appears twice or a process index has two keys.
    public init(clients: [Int: CurvePublicKey], coordinator: CurvePublicKey? = nil, adversary: CurvePublicKey? = nil) throws(CurveKeyError) {
        var entries = [CurvePublicKey: AuthenticatedPeer]()
        for (index, key) in clients.sorted(by: { $0.key < $1.key }) {
            guard index >= 0 else { throw CurveKeyError(.malformed, "process index \(index) is negative") }
            if let other = entries[key] {
                throw CurveKeyError(.duplicate, "public key \(key) is listed for process \(index) and for \(other)")
            }
            entries[key] = .clientProcess(index)
        }
        if let coordinator {
            if let other = entries[coordinator] {
                throw CurveKeyError(.duplicate, "the coordinator's public key \(coordinator) is also listed for \(other)")
            }
            entries[coordinator] = .coordinator
        }
        if let adversary, let other = entries[adversary] {
            throw CurveKeyError(.duplicate, "the adversary's public key \(adversary) is also listed for \(other)")
        }
        self.entries = entries
        self.coordinator = coordinator
        self.adversary = adversary
    }

    /// Who `key` is, or `nil` for a key that is not listed.
    public func identity(of key: CurvePublicKey) -> AuthenticatedPeer? { entries[key] }

    /// The client process indices listed, in order.
    public var processIndices: [Int] {
        entries.values.compactMap { if case .clientProcess(let index) = $0 { index } else { nil } }.sorted()
    }

    /// The same list restricted to client processes (what the coordinator's server admits).
    public var clientsOnly: CurveAllowList {
        var copy = self
        copy.entries = entries.filter { if case .clientProcess = $0.value { true } else { false } }
        return copy
    }

    // MARK: File

    private struct File: Codable {
        struct Client: Codable {
            var processIndex: Int
            var publicKey: String
            enum CodingKeys: String, CodingKey {
                case processIndex = "process_index"
                case publicKey = "public_key"
            }
        }
        var format: String
        var coordinator: String?
        var adversary: String?
        var clients: [Client]
    }

    /// Reads an allow-list file.
    /// - Parameter path: The `allow-list.json` file.
    /// - Throws: ``CurveKeyError`` naming the file: `.unreadable`, `.malformed` (not JSON, wrong
    ///   format tag, a bad key — with its index), `.duplicate`.
    public init(contentsOf path: String) throws(CurveKeyError) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw CurveKeyError(.unreadable, "cannot read the allow-list \(path): \(error.localizedDescription)", cause: error)
        }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw CurveKeyError(.malformed, "\(path) is not a FedArena allow-list (expected JSON with format, clients[]): \(error)", cause: error)
        }
        guard file.format == Self.format else {
            throw CurveKeyError(.malformed, "\(path) has format \"\(file.format)\", expected \"\(Self.format)\"")
        }
        var clients = [Int: CurvePublicKey]()
        for (position, client) in file.clients.enumerated() {
            let key: CurvePublicKey
            do {
                key = try CurvePublicKey(z85: client.publicKey)
            } catch {
                throw CurveKeyError(.malformed, "\(path): clients[\(position)] (process \(client.processIndex)): \(error.message)")
            }
            if clients.updateValue(key, forKey: client.processIndex) != nil {
                throw CurveKeyError(.duplicate, "\(path): process index \(client.processIndex) is listed twice")
            }
        }
        func optionalKey(_ text: String?, _ field: String) throws(CurveKeyError) -> CurvePublicKey? {
            guard let text else { return nil }
            do {
                return try CurvePublicKey(z85: text)
            } catch {
                throw CurveKeyError(.malformed, "\(path): \(field): \(error.message)")
            }
        }
        do {
            try self.init(clients: clients, coordinator: optionalKey(file.coordinator, "coordinator"), adversary: optionalKey(file.adversary, "adversary"))
        } catch {
            throw CurveKeyError(error.code, "\(path): \(error.message)")
        }
    }

    /// The file's JSON text (clients sorted by process index).
    public var fileContents: String {
        var clients = [File.Client]()
        for (key, identity) in entries {
            if case .clientProcess(let index) = identity { clients.append(File.Client(processIndex: index, publicKey: key.z85)) }
        }
        clients.sort { $0.processIndex < $1.processIndex }
        let file = File(format: Self.format, coordinator: coordinator?.z85, adversary: adversary?.z85, clients: clients)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            return String(decoding: try encoder.encode(file), as: UTF8.self) + "\n"
        } catch {
            // Encoding plain strings and integers cannot fail.
            preconditionFailure("cannot encode an allow-list: \(error)")
        }
    }
}
