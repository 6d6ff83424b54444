/// When a ``FaultRelay`` delays, stalls and cuts the traffic it forwards, as a function of the
/// time since the relay started (so every connection thread decides on its own, from the
/// clock, with no shared state).
///
/// - Delay: every chunk read from one side is written to the other `delay` after it was read
///   (order kept), like a long link.
/// - Stalls: the last `stallLength` of every `stallEvery` period, nothing is forwarded (what
///   arrives meanwhile is held and sent after), like a link that stops passing packets; a stall
///   longer than the heartbeat timeout makes ZeroMQ drop the connection.
/// - Cuts: at every multiple of `cutEvery`, every connection opened before is closed (both
///   sides), like a reset connection; ZeroMQ then reconnects through the relay.
///
/// Times are whole milliseconds.
public struct FaultSchedule: Sendable, Equatable {
    /// The delay added to every chunk, in milliseconds (0: none).
    public let delayMilliseconds: Int
    /// The period of stalls, in milliseconds, or `nil` for none.
    public let stallEveryMilliseconds: Int?
    /// How long each stall lasts, in milliseconds.
    public let stallMilliseconds: Int
    /// The period of cuts, in milliseconds, or `nil` for none.
    public let cutEveryMilliseconds: Int?

    /// Creates a schedule.
    /// - Parameters:
    ///   - delayMilliseconds: The delay per chunk, >= 0.
    ///   - stallEveryMilliseconds: The stall period (> `stallMilliseconds`), or `nil`.
    ///   - stallMilliseconds: The stall length, > 0 when there are stalls.
    ///   - cutEveryMilliseconds: The cut period, > 0, or `nil`.
    /// - Throws: ``FaultRelayError`` `.invalidSchedule` naming the value and the reason.
    public init(
        delayMilliseconds: Int = 0, stallEveryMilliseconds: Int? = nil, stallMilliseconds: Int = 0, cutEveryMilliseconds: Int? = nil
    ) throws(FaultRelayError) {
        if delayMilliseconds < 0 { throw FaultRelayError(.invalidSchedule, "the delay must be >= 0 ms, got \(delayMilliseconds)") }
        if let period = stallEveryMilliseconds {
            guard stallMilliseconds > 0, stallMilliseconds < period else {
                throw FaultRelayError(
                    .invalidSchedule, "a stall must last more than 0 ms and less than its period (\(period) ms), got \(stallMilliseconds) ms")
            }
        }
        if let period = cutEveryMilliseconds, period <= 0 {
            throw FaultRelayError(.invalidSchedule, "the cut period must be > 0 ms, got \(period)")
        }
        self.delayMilliseconds = delayMilliseconds
        self.stallEveryMilliseconds = stallEveryMilliseconds
        self.stallMilliseconds = stallMilliseconds
        self.cutEveryMilliseconds = cutEveryMilliseconds
    }

    /// Whether forwarding is stalled `elapsed` ms after the relay started: the last
    /// `stallMilliseconds` of each period.
    /// - Parameter elapsed: Milliseconds since the relay started, >= 0.
    /// - Returns: `true` during a stall.
    public func isStalled(at elapsed: Int) -> Bool {
        guard let period = stallEveryMilliseconds else { return false }
        return elapsed % period >= period - stallMilliseconds
    }

    /// The cut generation at `elapsed`: how many cuts have happened. A connection opened in
    /// generation `g` is closed once the generation exceeds `g`.
    /// - Parameter elapsed: Milliseconds since the relay started, >= 0.
    /// - Returns: `elapsed / cutEveryMilliseconds`, or 0 without cuts.
    public func cutGeneration(at elapsed: Int) -> Int {
        cutEveryMilliseconds.map { elapsed / $0 } ?? 0
    }

    /// The next time after `elapsed` at which a stall begins or ends or a cut happens.
    /// - Parameter elapsed: Milliseconds since the relay started, >= 0.
    /// - Returns: Milliseconds since the start, > `elapsed`, or `nil` when nothing ever changes.
    public func nextChange(after elapsed: Int) -> Int? {
        var candidates = [Int]()
        if let period = stallEveryMilliseconds {
            let base = elapsed / period * period
            for boundary in [base + period - stallMilliseconds, base + period, base + 2 * period - stallMilliseconds] where boundary > elapsed {
                candidates.append(boundary)
            }
        }
        if let period = cutEveryMilliseconds { candidates.append((elapsed / period + 1) * period) }
        return candidates.min()
    }
}
