import Foundation

/// Simulated hosts on this machine: one network namespace per host, each with a veth pair
/// into a bridge that lives in the first ("switch") host, on a private /24 that exists only
/// inside these namespaces. Needs root and iproute2; removed when released.
final class NetworkNamespaces {
    /// Namespace names, index 0 is the coordinator's host (it holds the bridge).
    let hosts: [String]
    let subnet: String
    private let tag: String

    /// Whether the multi-host tests run: where namespaces can be made; and as root (CI) even
    /// where they cannot, so that they fail there rather than skip, unless
    /// `REEL_SKIP_MULTIHOST=1` asks for the skip.
    static var shouldRun: Bool {
        ProcessInfo.processInfo.environment["REEL_SKIP_MULTIHOST"] != "1" && (geteuid() == 0 || available)
    }

    /// Whether this process may create namespaces (root with `ip` available).
    static var available: Bool {
        guard geteuid() == 0 else { return false }
        let probe = "reelprobe\(getpid())"
        defer { _ = try? run(["netns", "del", probe]) }
        return (try? run(["netns", "add", probe])) != nil
    }

    /// Creates `count` hosts on 10.231.N.0/24 (N from this process id).
    init(count: Int) throws {
        let tag = String(getpid() % 100_000)
        self.tag = tag
        subnet = "10.231.\(getpid() % 250).0"
        hosts = (0..<count).map { "reel\(tag)h\($0)" }
        let base = String(subnet.dropLast(2))
        do {
            for host in hosts {
                try Self.run(["netns", "add", host])
                try Self.run(["-n", host, "link", "set", "lo", "up"])
            }
            let hub = hosts[0]
            try Self.run(["-n", hub, "link", "add", "br0", "type", "bridge"])
            try Self.run(["-n", hub, "addr", "add", "\(base).1/24", "dev", "br0"])
            try Self.run(["-n", hub, "link", "set", "br0", "up"])
            for index in 1..<count {
                let (hostEnd, hubEnd) = ("rh\(tag)x\(index)", "rb\(tag)x\(index)")
                try Self.run(["link", "add", hostEnd, "type", "veth", "peer", "name", hubEnd])
                try Self.run(["link", "set", hostEnd, "netns", hosts[index]])
                try Self.run(["link", "set", hubEnd, "netns", hub])
                try Self.run(["-n", hosts[index], "addr", "add", "\(address(of: index))/24", "dev", hostEnd])
                try Self.run(["-n", hosts[index], "link", "set", hostEnd, "up"])
                try Self.run(["-n", hub, "link", "set", hubEnd, "master", "br0"])
                try Self.run(["-n", hub, "link", "set", hubEnd, "up"])
            }
        } catch {
            release()
            throw error
        }
    }

    deinit { release() }

    /// The address of host `index` (the coordinator's host is .1).
    func address(of index: Int) -> String { "\(subnet.dropLast(2)).\(index == 0 ? 1 : 10 + index)" }

    /// Cuts host `index` off the network: its link on the bridge goes down.
    func cut(_ index: Int) throws { try Self.run(["-n", hosts[0], "link", "set", "rb\(tag)x\(index)", "down"]) }

    func release() {
        for host in hosts { _ = try? Self.run(["netns", "del", host]) }
    }

    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ip"] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw NSError(
                domain: "ip", code: Int(process.terminationStatus),
                userInfo: [NSLocalizedDescriptionKey: "ip \(arguments.joined(separator: " ")): \(message)"])
        }
        return message
    }
}
