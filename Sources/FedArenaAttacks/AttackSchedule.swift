import FedArenaCore

/// The rounds in which the malicious clients attack; in the other rounds they behave honestly
/// (train on their real samples and send that update).
///
/// YAML keys, read from the `attack:` mapping (rounds are 1-based):
/// - `start` (default 1), `every` (default 1), `end` (default: the last round): attack in rounds
///   `start, start + every, ...` up to `end`;
/// - `at: r`: a single shot in round `r` (cannot be combined with the three above).
public struct AttackSchedule: Sendable, Equatable, CustomStringConvertible {
    /// The first attacked round.
    public var start: Int
    /// The period, in rounds.
    public var every: Int
    /// The last round that may be attacked, or `nil` for no end.
    public var end: Int?

    /// Creates a periodic schedule.
    /// - Parameters:
    ///   - start: the first attacked round, at least 1.
    ///   - every: the period, at least 1.
    ///   - end: the last round that may be attacked (`nil`: none), at least `start`.
    /// - Precondition: the bounds above (``AttackRegistry`` checks them for YAML input).
    public init(start: Int = 1, every: Int = 1, end: Int? = nil) {
        precondition(start >= 1 && every >= 1 && (end ?? start) >= start, "invalid attack schedule")
        self.start = start
        self.every = every
        self.end = end
    }

    /// Every round from round 1 on.
    public static let always = AttackSchedule()

    /// A single shot in `round`.
    public static func singleShot(at round: Int) -> AttackSchedule { AttackSchedule(start: round, every: 1, end: round) }

    /// Whether the attack runs in `round` (1-based).
    public func isActive(round: Int) -> Bool {
        guard round >= start else { return false }
        if let end, round > end { return false }
        return (round - start) % every == 0
    }

    /// The attacked rounds among `1...rounds`.
    public func activeRounds(upTo rounds: Int) -> [Int] {
        rounds < 1 ? [] : (1...rounds).filter { isActive(round: $0) }
    }

    public var description: String {
        if end == start { return "round \(start)" }
        var text = "rounds \(start)" + (every == 1 ? "..." : ", every \(every)")
        if let end { text += " to \(end)" }
        return text
    }

    /// Reads `start`, `every`, `end` and `at` from `reader`.
    /// - Throws: ``ConfigError`` for a value out of range, `end < start`, or `at` combined with
    ///   another schedule key.
    public static func read(from reader: ConfigReader) throws(ConfigError) -> AttackSchedule {
        if reader.contains("at") {
            for key in ["start", "every", "end"] where reader.contains(key) {
                throw reader.error(key, "cannot be combined with \"at\" (a single-shot attack in one round)")
            }
            let round = try reader.int("at", atLeast: 1)
            _ = reader.raw("start"); _ = reader.raw("every"); _ = reader.raw("end")
            return .singleShot(at: round)
        }
        _ = reader.raw("at")
        let start = try reader.int("start", default: 1, atLeast: 1)
        let every = try reader.int("every", default: 1, atLeast: 1)
        let end = try reader.optionalInt("end", atLeast: 1)
        if let end, end < start { throw reader.error("end", "must be at least start (\(start)), got \(end)") }
        return AttackSchedule(start: start, every: every, end: end)
    }
}
