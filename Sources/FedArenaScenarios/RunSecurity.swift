import FedArenaCore
import FedArenaRuntime
import FedArenaWire
import Foundation

/// The CURVE settings of one run: whether it is on, the key folder, and what each socket and
/// child process needs.
struct RunSecurity: Sendable {
    /// The key folder, or `nil` for plaintext.
    let keys: CurveKeyDirectory?
    /// The coordinator's key pair (its server key, and its client key towards the adversary).
    let coordinatorKeyPair: CurveKeyPair?

    /// Reads or makes the keys of a run.
    /// - Parameters:
    ///   - config: The scenario (`transport.curve`, `transport.keys`, `clients.processes`).
    ///   - curveByDefault: Whether CURVE is on when `transport.curve` is unset.
    ///   - runFolder: Where a local run generates its keys (`RUN/keys`) when none are given.
    ///   - startsClients: Whether this launcher starts the clients (only then may it make keys:
    ///     remote clients could not know them).
    /// - Throws: ``RuntimeError`` `.configuration` naming the key folder and what is missing.
    init(config: ScenarioConfig, curveByDefault: Bool, runFolder: String, startsClients: Bool) throws(RuntimeError) {
        guard config.transport.curve ?? curveByDefault else {
            keys = nil
            coordinatorKeyPair = nil
            return
        }
        let processes = config.clients.processes
        do throws(CurveKeyError) {
            let folder: CurveKeyDirectory
            if let path = config.transport.keysDirectory {
                folder = try CurveKeyDirectory(path: path)
            } else if startsClients {
                let path = runFolder + "/keys"
                folder = FileManager.default.fileExists(atPath: path + "/" + CurveKeyDirectory.FileName.allowList)
                    ? try CurveKeyDirectory(path: path)
                    : try CurveKeyDirectory.generate(at: path, clientProcesses: processes)
            } else {
                throw CurveKeyError(
                    .missingEntry,
                    "transport.curve is on (the default of fedarena coordinator) but transport.keys is not set: run "
                        + "`fedarena keys generate DIR --clients \(processes)`, then --set transport.keys=DIR "
                        + "(or --set transport.curve=false for a plaintext run on a trusted network)")
            }
            let missing = Set(0..<processes).subtracting(folder.allowList.processIndices)
            if !missing.isEmpty {
                throw CurveKeyError(
                    .missingEntry,
                    "\(folder.path) has no client key for process indexes \(missing.sorted().map(String.init).joined(separator: ", ")) "
                        + "(clients.processes is \(processes)): run `fedarena keys generate NEWDIR --clients \(processes)`")
            }
            keys = folder
            coordinatorKeyPair = try folder.coordinatorKeyPair()
        } catch {
            throw RuntimeError(.configuration, "CURVE keys: \(error.message)", cause: error)
        }
    }

    /// The coordinator socket's security: a CURVE server admitting the client processes only.
    var serverSecurity: ZMQSecurity {
        guard let keys, let coordinatorKeyPair else { return .plaintext }
        return .curveServer(keyPair: coordinatorKeyPair, allowList: keys.allowList.clientsOnly)
    }

    /// The security of the coordinator's link to the adversary process.
    /// - Throws: ``RuntimeError`` `.configuration` when the key folder has no adversary key.
    func adversaryLinkSecurity() throws(RuntimeError) -> ZMQSecurity {
        guard let keys, let coordinatorKeyPair else { return .plaintext }
        guard let adversary = keys.allowList.adversary else {
            throw RuntimeError(.configuration, "CURVE keys: \(keys.file(CurveKeyDirectory.FileName.allowList)) has no adversary key")
        }
        return .curveClient(keyPair: coordinatorKeyPair, serverKey: adversary)
    }

    /// The arguments every child gets: `--keys DIR` or `--no-curve`.
    var childArguments: [String] {
        guard let keys else { return ["--no-curve"] }
        return ["--keys", keys.path]
    }

    /// One line for the log.
    var summary: String {
        guard let keys else { return "CURVE off (plaintext)" }
        return "CURVE on, keys in \(keys.path) (\(keys.allowList.processIndices.count) client process keys)"
    }
}
