import ArgumentParser
import ReelCore
import ReelWorker

extension Reel {
    struct Worker: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run a worker: sample chunks for a coordinator.")

        @Option(help: "The coordinator's ZeroMQ endpoint.")
        var connect: String

        @Option(help: "Backend to offer (\(BackendKind.allCases.map(\.rawValue).joined(separator: ", "))).")
        var backend: String = BackendKind.procedural.rawValue

        @Option(help: "Unique worker name (default: host-pid).")
        var name: String?

        @OptionGroup var logging: LoggingOptions

        func validate() throws {
            guard BackendKind(rawValue: backend) != nil else {
                throw ValidationError(
                    "--backend: unknown backend '\(backend)' (known: \(BackendKind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            if let name, name.isEmpty || name.utf8.count > 200 || name.hasPrefix("\0") {
                throw ValidationError("--name: must be 1-200 bytes")
            }
        }

        func run() throws {
            let logger = logging.makeLogger("reel.worker")
            let node = try WorkerNode(
                options: WorkerOptions(
                    coordinator: connect, name: name ?? WorkerOptions.defaultName,
                    backends: [BackendKind(rawValue: backend)!]), logger: logger)
            try node.run { ProcessSetup.shouldStop }
        }
    }
}
