import ArgumentParser
import ReelClient
import ReelCore
import ReelWorker

extension Reel {
    struct Worker: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run a worker: sample chunks for a coordinator.")

        @Option(help: "The coordinator's ZeroMQ endpoint.")
        var connect: String

        @Option(help: "Offer only this backend (\(BackendKind.allCases.map(\.rawValue).joined(separator: ", ")); default: all).")
        var backend: String?

        @Option(help: "Unique worker name (default: host-pid).")
        var name: String?

        @Option(help: "Refuse chunks that need more memory than this many MB (they go to other workers).")
        var maxMemoryMb: Int?

        @Option(help: "Seconds between heartbeats (match the coordinator's).")
        var heartbeat: Double = 1

        @Option(help: "This worker's CURVE key file, when the coordinator requires CURVE.")
        var curveKey: String?

        @Option(help: "The coordinator's public key file, when it requires CURVE.")
        var serverKey: String?

        @OptionGroup var logging: LoggingOptions

        func validate() throws {
            if let backend, BackendKind(rawValue: backend) == nil {
                throw ValidationError(
                    "--backend: unknown backend '\(backend)' (known: \(BackendKind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            if (curveKey == nil) != (serverKey == nil) { throw ValidationError("--curve-key and --server-key go together") }
            if let name, name.isEmpty || name.utf8.count > 200 || name.hasPrefix("\0") {
                throw ValidationError("--name: must be 1-200 bytes")
            }
        }

        func run() throws {
            let logger = logging.makeLogger("reel.worker")
            let node = try WorkerNode(
                options: WorkerOptions(
                    coordinator: connect, name: name ?? WorkerOptions.defaultName,
                    backends: backend.map { [BackendKind(rawValue: $0)!] } ?? BackendKind.allCases,
                    heartbeatSeconds: heartbeat, coordinatorTimeoutSeconds: max(5, heartbeat * 5), maxMemoryMegabytes: maxMemoryMb,
                    curve: try CurveOptions.clientKeys(curveKey, serverKey)),
                logger: logger)
            try node.run { ProcessSetup.shouldStop }
        }
    }
}
