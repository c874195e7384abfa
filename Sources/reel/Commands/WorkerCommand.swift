import ArgumentParser
import Foundation
import ReelClient
import ReelCore
import ReelWorker

extension Reel {
    struct Worker: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run a worker: sample chunks for a coordinator.")

        @Option(help: "The coordinator's ZeroMQ endpoint.")
        var connect: String

        @Option(
            help:
                "Offer only this backend (\(BackendKind.allCases.map(\.rawValue).joined(separator: ", ")); default: procedural and simulated)."
        )
        var backend: String?

        @Option(help: "Diffusers backend: the Python with reel_sidecar installed (default: $REEL_PYTHON, else .venv-diffusers).")
        var python: String?

        @Option(name: .customLong("model"), help: "Diffusers backend: a model folder this worker offers (repeatable; default: any).")
        var models: [String] = []

        @Option(help: "Diffusers backend: torch threads on a CPU device (results match across workers only at equal counts).")
        var sidecarThreads: Int = 1

        @Option(help: "Diffusers backend: seconds a sidecar request may take before the sidecar is killed and restarted.")
        var sidecarTimeout: Double = 600

        @Option(help: "Diffusers backend: the sidecar's log file (default: in the temporary directory).")
        var sidecarLog: String?

        @Option(
            help: "Diffusers backend on a CPU: MB the sidecar may allocate beyond its libraries; past it a task fails as out of memory.")
        var sidecarMaxMemoryMb: Int?

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

        @Option(
            help:
                "Leave once the farm has had no uncommitted work (and this worker no task) for this many seconds: a batch job releasing its allocation."
        )
        var exitWhenIdle: Double?

        @Option(help: "On SIGTERM: seconds to wait for results already sent to be acknowledged before leaving.")
        var drainSeconds: Double = 10

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
            guard (1...256).contains(sidecarThreads) else {
                throw ValidationError("--sidecar-threads: must be 1-256 (got \(sidecarThreads))")
            }
            guard sidecarTimeout >= 1 && sidecarTimeout <= 86400 else {
                throw ValidationError("--sidecar-timeout: must be 1-86400 seconds (got \(sidecarTimeout))")
            }
            guard heartbeat >= 0.05 && heartbeat <= 60 else {
                throw ValidationError("--heartbeat: must be 0.05-60 seconds (got \(heartbeat))")
            }
            if let exitWhenIdle, !(exitWhenIdle >= 1 && exitWhenIdle <= 604_800) {
                throw ValidationError("--exit-when-idle: must be 1-604800 seconds (got \(exitWhenIdle))")
            }
            guard drainSeconds >= 0 && drainSeconds <= 3600 else {
                throw ValidationError("--drain-seconds: must be 0-3600 seconds (got \(drainSeconds))")
            }
            if let maxMemoryMb, !(0...(1 << 30)).contains(maxMemoryMb) {
                throw ValidationError("--max-memory-mb: must be 0-1073741824 (got \(maxMemoryMb))")
            }
            if let sidecarMaxMemoryMb, !(16...(1 << 22)).contains(sidecarMaxMemoryMb) {
                throw ValidationError("--sidecar-max-memory-mb: must be 16-4194304 (got \(sidecarMaxMemoryMb))")
            }
            if backend != BackendKind.diffusers.rawValue, python != nil || !models.isEmpty || sidecarMaxMemoryMb != nil {
                throw ValidationError("--python, --model and --sidecar-max-memory-mb apply to --backend diffusers")
            }
            if backend == BackendKind.diffusers.rawValue {
                guard let python = python ?? SidecarOptions.defaultPython(executable: ProcessSetup.executablePath) else {
                    throw ValidationError(
                        "--backend diffusers: no Python found: run scripts/install-diffusers, or give --python or REEL_PYTHON")
                }
                guard FileManager.default.isExecutableFile(atPath: python) else {
                    throw ValidationError("--python: \(python) is not executable")
                }
                for model in models where !FileManager.default.fileExists(atPath: model + "/model_index.json") {
                    throw ValidationError("--model: \(model) is not a diffusers model folder (no model_index.json)")
                }
            }
        }

        func run() throws {
            let logger = logging.makeLogger("reel.worker")
            let name = name ?? WorkerOptions.defaultName
            var options = WorkerOptions(
                coordinator: connect, name: name, backends: backend.map { [BackendKind(rawValue: $0)!] } ?? [.procedural, .simulated],
                heartbeatSeconds: heartbeat, coordinatorTimeoutSeconds: max(5, heartbeat * 5), maxMemoryMegabytes: maxMemoryMb,
                curve: try CurveOptions.clientKeys(curveKey, serverKey))
            options.exitWhenIdleSeconds = exitWhenIdle
            options.drainSeconds = drainSeconds
            if backend == BackendKind.diffusers.rawValue {
                let safeName = String(name.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" })
                options.sidecar = SidecarOptions(
                    python: python ?? SidecarOptions.defaultPython(executable: ProcessSetup.executablePath)!, threads: sidecarThreads,
                    logPath: sidecarLog ?? NSTemporaryDirectory() + "/reel-sidecar-\(safeName).log", requestTimeoutSeconds: sidecarTimeout,
                    maxMemoryMegabytes: sidecarMaxMemoryMb)
                options.models =
                    models.isEmpty ? ["*"] : models.map { SpecLoader.absolute($0, relativeTo: FileManager.default.currentDirectoryPath) }
            }
            let node = try WorkerNode(options: options, logger: logger)
            try node.run { ProcessSetup.shouldStop }
        }
    }
}
