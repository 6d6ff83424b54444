import Dispatch
import Foundation
import Synchronization

/// Turns SIGINT and SIGTERM into a cancellation: the first signal calls `onSignal` (which
/// cancels the run's task, so the launcher stops its children and records the interruption);
/// a second signal while that shutdown is under way exits at once with `128 + signal`
/// (children still die with their parent, see ``ParentWatch``).
///
/// The signals' default actions are replaced for the lifetime of this value: installing it
/// sets them to `SIG_IGN` and delivers them through Dispatch signal sources instead.
/// swift-subprocess resets every signal to its default in the children it spawns, so the
/// children are not affected.
public final class RunInterruption: Sendable {
    /// Records the first signal and calls the handler (what the signal sources call).
    private final class Receiver: Sendable {
        let signal = Mutex<Int32?>(nil)
        let onSignal: @Sendable (Int32) -> Void

        init(onSignal: @escaping @Sendable (Int32) -> Void) { self.onSignal = onSignal }

        func received(_ number: Int32) {
            let first = signal.withLock { signal -> Bool in
                guard signal == nil else { return false }
                signal = number
                return true
            }
            if first {
                onSignal(number)
            } else {
                FileHandle.standardError.write(Data("fedarena: second \(RunInterruption.name(of: number)) during shutdown; exiting now\n".utf8))
                Foundation.exit(128 + number)
            }
        }
    }

    private let receiver: Receiver
    /// The Dispatch signal sources (kept alive here: a released source stops delivering).
    private let sources: Mutex<[any DispatchSourceSignal]>

    /// The signals handled: SIGINT (Ctrl-C) and SIGTERM (`kill`, Kubernetes, Slurm).
    public static let signals: [Int32] = [SIGINT, SIGTERM]

    /// Installs the handlers.
    /// - Parameter onSignal: Called once, on a Dispatch queue, with the first signal.
    public init(onSignal: @escaping @Sendable (Int32) -> Void) {
        let receiver = Receiver(onSignal: onSignal)
        var sources = [any DispatchSourceSignal]()
        for number in Self.signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { receiver.received(number) }
            source.resume()
            sources.append(source)
        }
        self.receiver = receiver
        self.sources = Mutex(sources)
    }

    deinit {
        sources.withLock { sources in
            for source in sources { source.cancel() }
        }
        for number in Self.signals { signal(number, SIG_DFL) }
    }

    /// The first signal received, if any.
    public var receivedSignal: Int32? { receiver.signal.withLock { $0 } }

    /// The conventional exit status of a process ended by the signal received (130 for
    /// SIGINT, 143 for SIGTERM), or `nil` when none arrived.
    public var exitStatus: Int32? { receivedSignal.map { 128 + $0 } }

    /// The signal's name (`SIGINT`, `SIGTERM`).
    public static func name(of signal: Int32) -> String {
        switch signal {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        case SIGKILL: "SIGKILL"
        default: "signal \(signal)"
        }
    }
}
