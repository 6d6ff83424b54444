import Foundation
import Testing

/// Test hosts in Linux network namespaces, for runs that cross a network without a cluster:
/// a switch namespace holding a bridge, and one namespace per host whose `eth0` (one end of a
/// veth pair, the other on the bridge) has an address on ``subnet``.0/24. Nothing is added to
/// the test process's own namespace, so no traffic can leave these namespaces.
///
/// Needs root and iproute2's `ip`; ``available()`` says whether namespaces can be made here.
/// ``tearDown()`` deletes every namespace made (and with them the veth pairs and the bridge);
/// call it in a `defer`, after ending the processes started in them.
final class NetworkNamespaces {
    /// The private /24 of the test hosts (host k gets `subnet.(k+1)`).
    static let subnet = "10.213.77"

    /// iproute2's `ip`, if installed.
    static let ip: String? = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Whether namespaces can be made: root, `ip`, and a probe namespace that can be added and
    /// deleted (containers without CAP_SYS_ADMIN cannot).
    static func available() -> Bool {
        guard getuid() == 0, let ip else { return false }
        let probe = "fa-probe-\(getpid())"
        guard (try? run(ip, ["netns", "add", probe]))?.status == 0 else { return false }
        return (try? run(ip, ["netns", "delete", probe]))?.status == 0
    }

    /// A host: its namespace and address.
    struct Host {
        var namespace: String
        var address: String
    }

    /// The hosts, in the order given.
    let hosts: [Host]
    private let ip: String
    private let switchNamespace: String
    private var made: [String] = []

    /// Makes the switch and one namespace per host.
    /// - Parameter count: How many hosts.
    /// - Throws: ``Failure`` naming the `ip` command that failed (the namespaces made so far
    ///   are deleted first).
    init(hosts count: Int) throws {
        guard let ip = Self.ip else { throw Failure(message: "iproute2's ip is not installed") }
        self.ip = ip
        let prefix = "fa\(getpid())"
        switchNamespace = "\(prefix)-sw"
        hosts = (0..<count).map { Host(namespace: "\(prefix)-h\($0)", address: "\(Self.subnet).\($0 + 1)") }
        do {
            // Leftovers of a run of the same PID (unlikely) would make `add` fail.
            for name in [switchNamespace] + hosts.map(\.namespace) { _ = try Self.run(ip, ["netns", "delete", name]) }
            try add(switchNamespace)
            try ipCommand(["-n", switchNamespace, "link", "set", "lo", "up"])
            try ipCommand(["-n", switchNamespace, "link", "add", "br0", "type", "bridge"])
            try ipCommand(["-n", switchNamespace, "link", "set", "br0", "up"])
            for (index, host) in hosts.enumerated() {
                try add(host.namespace)
                try ipCommand(["-n", host.namespace, "link", "set", "lo", "up"])
                try ipCommand(["-n", switchNamespace, "link", "add", "port\(index)", "type", "veth", "peer", "name", "eth0", "netns", host.namespace])
                try ipCommand(["-n", switchNamespace, "link", "set", "port\(index)", "master", "br0"])
                try ipCommand(["-n", switchNamespace, "link", "set", "port\(index)", "up"])
                try ipCommand(["-n", host.namespace, "addr", "add", "\(host.address)/24", "dev", "eth0"])
                try ipCommand(["-n", host.namespace, "link", "set", "eth0", "up"])
            }
        } catch {
            tearDown()
            throw error
        }
    }

    deinit { tearDown() }

    /// The command that runs `arguments` on `host` (`ip netns exec NS ...`, which execs in
    /// place: the process's PID is the command's own).
    func command(on host: Host, _ arguments: [String]) -> (executable: String, arguments: [String]) {
        (ip, ["netns", "exec", host.namespace] + arguments)
    }

    /// Deletes every namespace made (again: a no-op).
    func tearDown() {
        for name in made.reversed() {
            // A namespace that cannot be deleted is reported, not fatal: the others still go.
            do {
                let result = try Self.run(ip, ["netns", "delete", name])
                if result.status != 0 { Issue.record("cannot delete network namespace \(name): \(result.output)") }
            } catch {
                Issue.record("cannot delete network namespace \(name): \(error)")
            }
        }
        made.removeAll()
    }

    private func add(_ name: String) throws {
        try ipCommand(["netns", "add", name])
        made.append(name)
    }

    private func ipCommand(_ arguments: [String]) throws {
        let result = try Self.run(ip, arguments)
        guard result.status == 0 else {
            throw Failure(message: "ip \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.output)")
        }
    }

    /// A failed namespace operation.
    struct Failure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// Runs a short command to its end.
    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
