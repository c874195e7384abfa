import ArgumentParser
import Foundation
import ReelClient
import ReelCoordinator
import ReelCore
import ReelHTTP
import ReelStore

extension Reel {
    struct Coordinator: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the coordinator: the job store and the ZeroMQ endpoint workers and clients talk to.")

        @Option(help: "Data directory: the SQLite store, chunk artifacts, logs.")
        var data: String = "reel-data"

        @Option(help: "ZeroMQ endpoint to bind (loopback by default; `tcp://127.0.0.1:*` picks a free port).")
        var bind: String = "tcp://127.0.0.1:5555"

        @Option(help: "Jobs may write their outputs only inside this folder (default: the current folder).")
        var outputRoot: String?

        @Option(help: "Seconds of silence after which a worker is dead and its tasks are requeued.")
        var workerTimeout: Double = 5

        @Option(help: "Seconds between heartbeats.")
        var heartbeat: Double = 1

        @Option(help: "Seconds a lease lasts without being renewed.")
        var lease: Double = 30

        @Option(help: "Failures of one chunk before its job fails.")
        var maxFailures: Int = 3

        @Option(help: "Tasks queued at each worker beyond the one it runs, so it never waits between tasks.")
        var prefetch: Int = 1

        @Option(help: "Tasks of each job held in memory; the rest wait in the database and are read in as these finish.")
        var residentTasks: Int = 4096

        @Option(
            help:
                "Seconds a worker may hold leases without advancing any (a step, a result) before it loses them; at least 20 times its jobs' median step time."
        )
        var stallTimeout: Double = 120

        @Option(
            help:
                "Fraction of tasks (0-1) whose result is verified by recomputing it on a worker of another key (or name) before it is committed; a worker whose result loses the vote is quarantined."
        )
        var verifyFraction: Double = 0.02

        @Option(help: "Workers kept at once; past it a new one replaces the longest-silent one, or is refused.")
        var maxWorkers: Int = 4096

        @Option(
            help:
                "Leases the jobs of one submitter (key name, or 'local') may hold at once, so one submitter cannot take the whole farm; 0: no cap."
        )
        var maxTasksPerSubmitter: Int = 0

        @Option(help: "This coordinator's CURVE key file (from `reel keys`): turns on encryption and authentication.")
        var curveSecret: String?

        @Option(
            help: "A folder of .pub files (or one) of keys allowed as workers: they take tasks and cannot submit, list or control jobs.")
        var allowWorker: String?

        @Option(help: "A folder of .pub files (or one) of keys allowed as submitters: each sees and controls only the jobs it submitted.")
        var allowSubmitter: String?

        @Option(help: "A folder of .pub files (or one) of keys allowed as admins: they see and control every job.")
        var allowAdmin: String?

        @Flag(help: "Allow binding beyond loopback without CURVE (only on a trusted, isolated network).")
        var insecure = false

        @Option(
            help: "Serve Prometheus metrics and health checks over HTTP on HOST:PORT (/metrics, /healthz, /readyz; read-only, no job data)."
        )
        var metrics: String?

        @OptionGroup var api: HTTPOptions

        @Option(help: "POST a signed notice here when a job is done, failed or cancelled, unless its spec names notify_url.")
        var notifyURL: String?

        @Option(help: "A host a spec's notify_url may name (repeat for several); the --notify-url host is always allowed.")
        var notifyAllowHost: [String] = []

        @Option(
            help:
                "File holding the notices' HMAC-SHA256 key (X-Reel-Signature); default: DATA/webhook.secret, made on first use.")
        var notifySecret: String?

        @OptionGroup var logging: LoggingOptions

        func validate() throws {
            let lists = [allowWorker, allowSubmitter, allowAdmin].compactMap { $0 }
            if curveSecret == nil && !lists.isEmpty {
                throw ValidationError("--allow-worker, --allow-submitter and --allow-admin need --curve-secret")
            }
            if curveSecret != nil && lists.isEmpty {
                throw ValidationError("--curve-secret needs at least one of --allow-worker, --allow-submitter, --allow-admin")
            }
            if let problem = timings.problems().first { throw ValidationError(problem) }
            if let outputRoot, !FileManager.default.fileExists(atPath: outputRoot) {
                throw ValidationError("--output-root: \(outputRoot) does not exist")
            }
            if let metrics { _ = try HostPort(metrics, option: "--metrics") }
            if let notifyURL, let problem = WebhookURL.problem(notifyURL) { throw ValidationError("--notify-url \(problem)") }
            for host in notifyAllowHost
            where host.isEmpty || host.utf8.count > 253 || host.contains(where: { $0.isWhitespace || $0 == "/" }) {
                throw ValidationError("--notify-allow-host: '\(host.prefix(80))' is not a host name or address")
            }
            if notifySecret != nil && notifyURL == nil && notifyAllowHost.isEmpty {
                throw ValidationError("--notify-secret needs --notify-url or --notify-allow-host")
            }
        }

        var timings: SchedulerTimings {
            var timings = SchedulerTimings(
                heartbeatSeconds: heartbeat, workerTimeoutSeconds: workerTimeout, leaseSeconds: lease, maxFailures: maxFailures,
                prefetch: prefetch, residentTasks: residentTasks, stallSeconds: stallTimeout, maxWorkers: maxWorkers,
                verifyFraction: verifyFraction)
            timings.submitterTaskCap = maxTasksPerSubmitter
            return timings
        }

        func run() throws {
            let logger = logging.makeLogger("reel.coordinator")
            var security: CurveServerSecurity?
            if let curveSecret {
                var allowed: [Role: [[UInt8]: String]] = [:]
                for (role, path) in [(Role.worker, allowWorker), (.submitter, allowSubmitter), (.admin, allowAdmin)] {
                    if let path { allowed[role] = try KeyFiles.allowList(path, option: "--allow-\(role.rawValue)") }
                }
                security = try CurveServerSecurity(secretKey: try KeyFiles.keyPair(curveSecret).secretKey, allowed: allowed)
            }
            var options = CoordinatorOptions(
                dataDirectory: data, bind: bind, timings: timings,
                outputRoot: outputRoot ?? FileManager.default.currentDirectoryPath, security: security, insecure: insecure)
            if notifyURL != nil || !notifyAllowHost.isEmpty {
                try ArtifactStore.makeDirectory(data)
                let secret = try WebhookSettings.secret(at: notifySecret ?? "\(data)/webhook.secret", create: notifySecret == nil)
                options.webhooks = WebhookSettings(defaultURL: notifyURL, allowedHosts: Set(notifyAllowHost), secret: secret)
            }
            var server: MetricsServer?
            if let metrics {
                let address = try HostPort(metrics, option: "--metrics")
                options.prometheus = PrometheusMetrics()
                server = try MetricsServer.startBlocking(
                    host: address.host, port: address.port, metrics: options.prometheus!, logger: logger)
            }
            defer { server?.stop() }
            var apiOptions = try api.serverOptions(dataDirectory: data)
            if apiOptions != nil {
                options.operatorChannel = OperatorChannel()
                // The API serves /metrics too: it records into the same place as --metrics.
                if options.prometheus == nil { options.prometheus = PrometheusMetrics() }
                apiOptions?.metrics = options.prometheus
            }
            // The coordinator makes its store before the API opens it to read.
            let coordinator = try ReelCoordinator.Coordinator(options: options, logger: logger)
            let apiServer = try apiOptions.map { try APIServer.startBlocking($0, channel: options.operatorChannel!, logger: logger) }
            defer { apiServer?.stop() }
            try coordinator.run { ProcessSetup.shouldStop }
        }
    }
}

/// A `HOST:PORT` option (`[::1]:PORT` for IPv6), range-checked.
struct HostPort {
    let host: String
    let port: Int

    init(_ text: String, option: String) throws {
        guard let colon = text.lastIndex(of: ":") else { throw ValidationError("\(option): expected HOST:PORT, got '\(text)'") }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, host.utf8.count <= 253, !host.contains(where: { $0.isWhitespace || $0 == "/" }) else {
            throw ValidationError("\(option): '\(host)' is not a host name or address")
        }
        guard let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("\(option): the port must be 0-65535 (0: any free port), got '\(text[text.index(after: colon)...])'")
        }
        self.host = host
        self.port = port
    }
}
