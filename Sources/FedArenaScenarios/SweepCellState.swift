import Foundation

/// A cell folder's `cell.json`: the sweep's bookkeeping of one cell, written atomically.
///
/// A cell counts as finished only when `cell.json` says `done` with the hash of the cell's
/// current scenario and `summary.json` is there; anything else (no file, `running` from a
/// killed sweep, `failed`, another hash after an edited axis) is run again.
public struct SweepCellState: Codable, Sendable, Equatable {
    /// Where the cell stands.
    public enum Status: String, Codable, Sendable {
        /// The run is (or was, when the sweep was killed) in progress.
        case running
        /// The run finished and wrote `summary.json`.
        case done
        /// The run failed; `error` says why.
        case failed
    }

    /// The cell's index in the plan.
    public var index: Int
    /// The cell's folder name.
    public var name: String
    /// The SHA-256 of the resolved scenario the run used.
    public var hash: String
    /// Where the cell stands.
    public var status: Status
    /// The `fedarena run` process ID while running.
    public var pid: Int32?
    /// When the run started (ISO 8601).
    public var started: String
    /// When it ended.
    public var finished: String?
    /// Wall seconds of the run, process start included.
    public var seconds: Double?
    /// The exit status of a failed run.
    public var exitCode: Int?
    /// Why the run failed (the last lines of `run.log`).
    public var error: String?

    /// Creates a state.
    public init(
        index: Int, name: String, hash: String, status: Status, pid: Int32? = nil, started: String, finished: String? = nil,
        seconds: Double? = nil, exitCode: Int? = nil, error: String? = nil
    ) {
        self.index = index
        self.name = name
        self.hash = hash
        self.status = status
        self.pid = pid
        self.started = started
        self.finished = finished
        self.seconds = seconds
        self.exitCode = exitCode
        self.error = error
    }

    enum CodingKeys: String, CodingKey {
        case index, name, hash, status, pid, started, finished, seconds
        case exitCode = "exit_code"
        case error
    }

    /// The file name in a cell folder.
    public static let fileName = "cell.json"

    /// Reads `folder/cell.json`.
    /// - Returns: `nil` when the file does not exist.
    /// - Throws: ``SweepError`` `.output` when it exists but cannot be read or decoded.
    public static func read(folder: String) throws(SweepError) -> SweepCellState? {
        let path = folder + "/" + fileName
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            return try JSONDecoder().decode(SweepCellState.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw SweepError(.output, "cannot read \(path): \(error)")
        }
    }

    /// Writes `folder/cell.json` atomically.
    /// - Throws: ``SweepError`` `.output` naming the file.
    public func write(folder: String) throws(SweepError) {
        let path = folder + "/" + Self.fileName
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            var data = try encoder.encode(self)
            data.append(0x0A)
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw SweepError(.output, "cannot write \(path): \(error)")
        }
    }

    /// The current time in ISO 8601.
    static func now() -> String {
        ISO8601DateFormatter().string(from: Date())
    }
}
