import ArgumentParser
import FedArenaTesting
import Foundation

/// `fedarena relay --listen ADDR --to ADDR`: a TCP relay that delays, stalls and cuts what it
/// forwards, to try a deployment on a bad network where `tc netem` is missing.
struct RelayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay",
        abstract: "Forward TCP connections with injected faults (delay, stalls, cuts) between hosts, for fault tests.",
        discussion: """
            Clients connect to --listen; each connection is forwarded to --to (the coordinator). Every chunk is \
            held --delay-ms before it is passed on; the last --stall-s of every --stall-every-s seconds nothing \
            passes (a stall longer than the 15 s ZeroMQ heartbeat timeout makes both ends reconnect); every \
            --cut-every-s seconds every open connection is closed. The schedule counts from the relay's start. \
            Prints "listening on HOST:PORT" on standard output once bound (port 0: any free port), one line \
            per cut on standard error, and runs until killed. IPv4 only; it is meant for loopback and test \
            network namespaces.
            """)

    @Option(help: "Where to listen, IPv4:PORT (port 0 for any free port).")
    var listen: String

    @Option(help: "Where to forward each connection, IPv4:PORT.")
    var to: String

    @Option(help: "Delay added to every chunk, in milliseconds.")
    var delayMs: Int = 0

    @Option(help: "Period of stalls, in seconds (none if not given).")
    var stallEveryS: Double?

    @Option(help: "Length of each stall, in seconds (with --stall-every-s).")
    var stallS: Double = 0

    @Option(help: "Period of connection cuts, in seconds (none if not given).")
    var cutEveryS: Double?

    func run() throws {
        let relay: FaultRelay
        do {
            let schedule = try FaultSchedule(
                delayMilliseconds: delayMs, stallEveryMilliseconds: stallEveryS.map { Int(($0 * 1_000).rounded()) },
                stallMilliseconds: Int((stallS * 1_000).rounded()), cutEveryMilliseconds: cutEveryS.map { Int(($0 * 1_000).rounded()) })
            relay = try FaultRelay(listen: try FaultRelay.Address(parsing: listen), to: try FaultRelay.Address(parsing: to), schedule: schedule) {
                printError("fedarena relay: \($0)")
            }
        } catch {
            printError("fedarena relay: \(error)")
            throw ExitCode(2)
        }
        // Written at once (not through print's buffer): a test or script waits for this line.
        FileHandle.standardOutput.write(Data("listening on \(relay.listening), forwarding to \(relay.target)\n".utf8))
        relay.run()
    }
}
