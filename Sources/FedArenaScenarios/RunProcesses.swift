import FedArenaRuntime
import Foundation

/// `processes.json` of a run folder: the OS processes of a local run and the endpoint the
/// coordinator bound, so that tools and tests signal exactly these processes by PID (never by
/// a name pattern) and connect to the real port (`tcp://127.0.0.1:0` picks one at bind time).
public struct RunProcesses: Codable, Sendable, Equatable {
    /// The coordinator's (this `fedarena run`'s) PID.
    public var coordinator: Int32
    /// The endpoint the coordinator bound, with its real port.
    public var endpoint: String
    /// Client process PIDs, in process-index order.
    public var clients: [Int32]
    /// The adversary process's PID, when the attack has one.
    public var adversary: Int32?

    /// Creates a record.
    public init(coordinator: Int32, endpoint: String, clients: [Int32], adversary: Int32?) {
        self.coordinator = coordinator
        self.endpoint = endpoint
        self.clients = clients
        self.adversary = adversary
    }

    /// Writes the record (atomically).
    /// - Throws: ``RuntimeError`` `.output` naming the file.
    public func write(to path: String) throws(RuntimeError) {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw RuntimeError(.output, "cannot write \(path): \(error)")
        }
    }
}
