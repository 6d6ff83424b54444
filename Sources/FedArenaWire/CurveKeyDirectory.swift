import FedArenaCore
import Foundation

/// A folder of CURVE keys for one deployment, as `fedarena keys generate DIR --clients N` writes it:
///
/// | file | holds | mode |
/// |---|---|---|
/// | `coordinator.key` | the coordinator's key pair | 0600 |
/// | `coordinator.pub` | its public key (clients need it) | 0644 |
/// | `adversary.key`, `adversary.pub` | the adversary process's key pair and public key | 0600, 0644 |
/// | `client-N.key` | client process N's key pair, N in `0..<clients` | 0600 |
/// | `allow-list.json` | public keys: each client key bound to its process index (``CurveAllowList``) | 0644 |
///
/// A key file is JSON: `{"format": "fedarena-curve-key-1", "role": "...", "public_key": Z85,
/// "secret_key": Z85}` (a `.pub` file has no `secret_key` and format
/// `fedarena-curve-public-key-1`). Reading a secret key file that group or others can read
/// fails, as OpenSSH does: copy keys with their mode (Kubernetes: `defaultMode: 0400`).
public struct CurveKeyDirectory: Sendable {
    /// The folder.
    public let path: String
    /// The folder's allow-list.
    public let allowList: CurveAllowList

    /// File names inside the folder.
    public enum FileName {
        /// The coordinator's key pair.
        public static let coordinatorKey = "coordinator.key"
        /// The coordinator's public key.
        public static let coordinatorPublicKey = "coordinator.pub"
        /// The adversary's key pair.
        public static let adversaryKey = "adversary.key"
        /// The adversary's public key.
        public static let adversaryPublicKey = "adversary.pub"
        /// The allow-list.
        public static let allowList = "allow-list.json"
        /// Client process `index`'s key pair.
        public static func clientKey(_ index: Int) -> String { "client-\(index).key" }
    }

    static let secretFormat = "fedarena-curve-key-1"
    static let publicFormat = "fedarena-curve-public-key-1"

    /// Opens a key folder by reading its allow-list.
    /// - Parameter path: The folder.
    /// - Throws: ``CurveKeyError`` when `allow-list.json` is missing or invalid.
    public init(path: String) throws(CurveKeyError) {
        self.path = path
        allowList = try CurveAllowList(contentsOf: Self.join(path, FileName.allowList))
    }

    /// Writes a new key folder.
    /// - Parameters:
    ///   - path: The folder; created with mode 0700 if missing. It must not already hold keys.
    ///   - clientProcesses: How many client process key pairs to make (at least 1).
    /// - Returns: The folder.
    /// - Throws: ``CurveKeyError`` `.writeFailed` when the folder already holds a key file or a
    ///   file cannot be created; `.unsupported` without CURVE.
    @discardableResult
    public static func generate(at path: String, clientProcesses: Int) throws(CurveKeyError) -> CurveKeyDirectory {
        guard clientProcesses >= 1 else {
            throw CurveKeyError(.malformed, "a key folder needs at least one client process key, got \(clientProcesses)")
        }
        try CurveKeyPair.requireCurve()
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw CurveKeyError(.writeFailed, "\(path) exists and is not a folder") }
            let existing: [String]
            do {
                existing = try FileManager.default.contentsOfDirectory(atPath: path)
            } catch {
                throw CurveKeyError(.writeFailed, "cannot list \(path): \(error.localizedDescription)", cause: error)
            }
            if let clash = existing.sorted().first(where: { $0.hasSuffix(".key") || $0 == FileName.allowList }) {
                throw CurveKeyError(.writeFailed, "\(path) already holds keys (\(clash)); refusing to overwrite them: choose an empty folder")
            }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw CurveKeyError(.writeFailed, "cannot create the key folder \(path): \(error.localizedDescription)", cause: error)
            }
        }
        let coordinator = try CurveKeyPair.generate()
        let adversary = try CurveKeyPair.generate()
        var clients = [Int: CurvePublicKey]()
        for index in 0..<clientProcesses {
            let pair = try CurveKeyPair.generate()
            clients[index] = pair.publicKey
            try writeSecret(pair, role: "client process \(index)", to: join(path, FileName.clientKey(index)))
        }
        try writeSecret(coordinator, role: "coordinator", to: join(path, FileName.coordinatorKey))
        try writePublic(coordinator.publicKey, role: "coordinator", to: join(path, FileName.coordinatorPublicKey))
        try writeSecret(adversary, role: "adversary", to: join(path, FileName.adversaryKey))
        try writePublic(adversary.publicKey, role: "adversary", to: join(path, FileName.adversaryPublicKey))
        let list = try CurveAllowList(clients: clients, coordinator: coordinator.publicKey, adversary: adversary.publicKey)
        try write(list.fileContents, to: join(path, FileName.allowList), mode: 0o644)
        return try CurveKeyDirectory(path: path)
    }

    /// The coordinator's key pair (`coordinator.key`).
    /// - Throws: ``CurveKeyError`` for a missing, unreadable, exposed or invalid file.
    public func coordinatorKeyPair() throws(CurveKeyError) -> CurveKeyPair {
        try Self.readSecret(Self.join(path, FileName.coordinatorKey))
    }

    /// The adversary's key pair (`adversary.key`).
    /// - Throws: ``CurveKeyError`` for a missing, unreadable, exposed or invalid file.
    public func adversaryKeyPair() throws(CurveKeyError) -> CurveKeyPair {
        try Self.readSecret(Self.join(path, FileName.adversaryKey))
    }

    /// Client process `index`'s key pair (`client-INDEX.key`).
    /// - Throws: ``CurveKeyError`` for a missing, unreadable, exposed or invalid file.
    public func clientKeyPair(process index: Int) throws(CurveKeyError) -> CurveKeyPair {
        try Self.readSecret(Self.join(path, FileName.clientKey(index)))
    }

    /// The path of a file in the folder.
    public func file(_ name: String) -> String { Self.join(path, name) }

    // MARK: Files

    private struct KeyFile: Codable {
        var format: String
        var role: String
        var publicKey: String
        var secretKey: String?
        enum CodingKeys: String, CodingKey {
            case format, role
            case publicKey = "public_key"
            case secretKey = "secret_key"
        }
    }

    /// Reads a secret key file (`*.key`), refusing one that group or others can read.
    /// - Parameter path: The file.
    /// - Returns: The key pair; its public key is derived from the secret key and must match the file's.
    /// - Throws: ``CurveKeyError`` naming the file.
    public static func readSecret(_ path: String) throws(CurveKeyError) -> CurveKeyPair {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw CurveKeyError(.unreadable, "cannot read the key file \(path): \(String(cString: strerror(errno)))")
        }
        if status.st_mode & 0o077 != 0 {
            throw CurveKeyError(
                .unreadable,
                "the secret key file \(path) has mode \(String(status.st_mode & 0o777, radix: 8)); it must not be readable by group or others (chmod 600 \(path))")
        }
        let file = try readKeyFile(path)
        guard file.format == secretFormat, let secret = file.secretKey else {
            throw CurveKeyError(.malformed, "\(path) is not a secret key file (format \"\(file.format)\", expected \"\(secretFormat)\" with secret_key)")
        }
        let pair: CurveKeyPair
        do {
            pair = try CurveKeyPair(secretKey: secret)
        } catch {
            throw CurveKeyError(error.code, "\(path): \(error.message)")
        }
        guard pair.publicKey.z85 == file.publicKey else {
            throw CurveKeyError(.malformed, "\(path): public_key does not belong to secret_key")
        }
        return pair
    }

    /// Reads a public key: a `.pub` or `.key` file, or the 40 Z85 characters themselves.
    /// - Parameter pathOrKey: A file path or a Z85 key.
    /// - Returns: The public key.
    /// - Throws: ``CurveKeyError`` naming the file.
    public static func readPublic(_ pathOrKey: String) throws(CurveKeyError) -> CurvePublicKey {
        if pathOrKey.utf8.count == 40, !FileManager.default.fileExists(atPath: pathOrKey), let key = try? CurvePublicKey(z85: pathOrKey) {
            return key
        }
        let file = try readKeyFile(pathOrKey)
        guard file.format == publicFormat || file.format == secretFormat else {
            throw CurveKeyError(.malformed, "\(pathOrKey) has format \"\(file.format)\", expected \"\(publicFormat)\"")
        }
        do {
            return try CurvePublicKey(z85: file.publicKey)
        } catch {
            throw CurveKeyError(error.code, "\(pathOrKey): \(error.message)")
        }
    }

    private static func readKeyFile(_ path: String) throws(CurveKeyError) -> KeyFile {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw CurveKeyError(.unreadable, "cannot read the key file \(path): \(error.localizedDescription)", cause: error)
        }
        do {
            return try JSONDecoder().decode(KeyFile.self, from: data)
        } catch {
            throw CurveKeyError(.malformed, "\(path) is not a FedArena key file (JSON with format, role, public_key): \(error)", cause: error)
        }
    }

    static func writeSecret(_ pair: CurveKeyPair, role: String, to path: String) throws(CurveKeyError) {
        try write(encode(KeyFile(format: secretFormat, role: role, publicKey: pair.publicKey.z85, secretKey: pair.secretKey)), to: path, mode: 0o600)
    }

    static func writePublic(_ key: CurvePublicKey, role: String, to path: String) throws(CurveKeyError) {
        try write(encode(KeyFile(format: publicFormat, role: role, publicKey: key.z85, secretKey: nil)), to: path, mode: 0o644)
    }

    private static func encode(_ file: KeyFile) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            return String(decoding: try encoder.encode(file), as: UTF8.self) + "\n"
        } catch {
            preconditionFailure("cannot encode a key file: \(error)")
        }
    }

    /// Creates `path` with `mode` (never wider: the mode is set at creation, before any byte
    /// is written), writes `text` and syncs it. Fails if the file exists.
    static func write(_ text: String, to path: String, mode: mode_t) throws(CurveKeyError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else {
            throw CurveKeyError(.writeFailed, "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        // The process umask may have narrowed the mode; make it exact.
        fchmod(descriptor, mode)
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
            if result < 0 {
                if errno == EINTR { continue }
                throw CurveKeyError(.writeFailed, "cannot write \(path): \(String(cString: strerror(errno)))")
            }
            written += result
        }
        guard fsync(descriptor) == 0 else {
            throw CurveKeyError(.writeFailed, "cannot sync \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// `directory/name`.
    /// - Parameters:
    ///   - directory: A folder.
    ///   - name: A file name in it.
    /// - Returns: The path.
    public static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
