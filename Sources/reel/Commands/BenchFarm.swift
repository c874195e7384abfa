import Foundation
import Logging
import ReelCoordinator
import ReelCore
import ReelHTTP
import ReelPlan
import ReelStore
import Synchronization

/// One timed render on a farm of local processes: a coordinator in this process (so its own
/// counters and CPU time can be read) and `workers` real `reel worker` processes on
/// loopback. The job is submitted once every worker has connected; the clock runs from the
/// submission to the last task committed and, with `encode`, on to the finished MP4 (the
/// encode runs beside the render, as in production).
struct BenchFarm {
    struct Run {
        var workers: Int
        var tasks: Int
        /// Submission to the last task committed.
        var wallSeconds: Double
        /// Submission to the finished MP4 (nil without `encode`).
        var toOutputSeconds: Double?
        /// Frames the encode had still to write when the last task committed (nil without `encode`).
        var encodeBacklogFrames: Int?
        /// CPU time of the coordinator's process from submission to the end (the farm's
        /// start-up, its workers' READYs, is not the render's).
        var renderCPUSeconds: Double
        var metrics: CoordinatorMetrics
    }

    let scratch: String
    /// Whether the workers run `SCHED_IDLE`, only when the coordinator does not (see ``run``).
    var workersYield = true

    /// `watched`: the operator API serves beside the coordinator with the dashboard's live
    /// feed open (a `curl` reading `/v1/events`) and `/metrics` scraped every second.
    func run(_ spec: JobSpec, workers count: Int, timings: SchedulerTimings, encode: Bool = false, watched: Bool = false) throws -> Run {
        // Data folders stay until the whole suite ends: deleting thousands of files just before
        // the next run would slow its file creation (ext4 skips recently deleted inodes).
        let data = "\(scratch)/farm-\(count)-\(UUID().uuidString.prefix(8))"
        var logger = Logger(label: "reel.bench") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .error
        var options = CoordinatorOptions(dataDirectory: data, bind: "tcp://127.0.0.1:*", timings: timings, outputRoot: scratch)
        options.encodeOutputs = encode
        if watched {
            options.prometheus = PrometheusMetrics()
            options.operatorChannel = OperatorChannel()
        }
        let coordinator = try ReelCoordinator.Coordinator(options: options, logger: logger)
        let watchers = try watched ? Watchers(data: data, options: options, logger: logger) : nil
        defer { watchers?.stop() }
        var processes: [Process] = []
        defer {
            for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) }
            for process in processes { process.waitUntilExit() }
        }
        for index in 0..<count {
            let process = Process()
            // In a real farm workers have machines of their own; here they share the
            // coordinator's cores, so they run only when it does not: SCHED_IDLE, set by chrt
            // (util-linux) before the worker starts, so that every thread of it has it.
            // Without `workersYield` (a quick run beside other work) they run at the usual priority.
            let worker = [
                ProcessSetup.executablePath, "worker", "--connect", coordinator.endpoint, "--name", "bench-\(index)",
                "--backend", spec.backend.rawValue, "--log-level", "error",
            ]
            let command = workersYield ? ["/usr/bin/chrt", "--idle", "0"] + worker : worker
            process.executableURL = URL(fileURLWithPath: command[0])
            process.arguments = Array(command.dropFirst())
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            processes.append(process)
        }
        let started = Date()
        var job: Int64?
        var submittedAt = Date()
        var cpuAtSubmit = 0.0
        var finishedAt: Date?, outputAt: Date?, backlog: Int?
        var failure: Error?
        try coordinator.run {
            if ProcessSetup.shouldStop { return true }
            guard let job else {
                guard coordinator.workerCount >= count else {
                    if Date().timeIntervalSince(started) > 60 {
                        failure = ReelError(.network, "only \(coordinator.workerCount) of \(count) workers connected within 60 s")
                        return true
                    }
                    return false
                }
                submittedAt = Date()
                cpuAtSubmit = CoordinatorMetrics.processCPUSeconds()
                do { job = try coordinator.submit(spec) } catch {
                    failure = error
                    return true
                }
                return false
            }
            if finishedAt == nil && coordinator.tasksFinished(job: job) {
                finishedAt = Date()
                backlog = encode ? spec.frameCount - (coordinator.framesEncoded(job: job) ?? spec.frameCount) : nil
            }
            guard finishedAt != nil else { return false }
            guard encode else { return true }
            switch coordinator.state(job: job) {
            case .done:
                outputAt = Date()
                return true
            case .failed, .cancelled:
                failure = ReelError(.encode, "the bench job ended \(coordinator.state(job: job)!.rawValue)")
                return true
            default:
                return false
            }
        }
        if let failure { throw failure }
        if ProcessSetup.shouldStop { throw ReelError(.usage, "interrupted") }
        if encode { try? FileManager.default.removeItem(atPath: spec.output) }
        return Run(
            workers: count, tasks: Planner.plan(spec).units.count, wallSeconds: finishedAt!.timeIntervalSince(submittedAt),
            toOutputSeconds: outputAt?.timeIntervalSince(submittedAt), encodeBacklogFrames: backlog,
            renderCPUSeconds: CoordinatorMetrics.processCPUSeconds() - cpuAtSubmit, metrics: coordinator.metrics)
    }
}

/// What watches a benchmark farm: the API server, a live-feed client and a metrics scraper.
private final class Watchers {
    let server: APIServer
    let feed = Process()
    let scraper: Thread
    let counts = Counts()

    final class Counts: Sendable {
        let scrapes = Atomic<Int>(0)
        let stopping = Atomic<Bool>(false)
    }

    init(data: String, options: CoordinatorOptions, logger: Logger) throws {
        let token = APIToken.generate()
        try Store(path: "\(data)/reel.sqlite").createToken(
            name: "bench", role: APIRole.viewer.rawValue, hash: APIToken.hash(token), now: Date().timeIntervalSince1970)
        var serverOptions = APIServerOptions(host: "127.0.0.1", port: 0, dataDirectory: data)
        serverOptions.metrics = options.prometheus
        server = try APIServer.startBlocking(serverOptions, channel: options.operatorChannel!, logger: logger)
        let base = "http://\(server.address)"
        feed.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        feed.arguments = ["-sN", "-H", "Authorization: Bearer \(token)", "\(base)/v1/events", "-o", "/dev/null"]
        try feed.run()
        let counts = self.counts
        scraper = Thread {
            while !counts.stopping.load(ordering: .relaxed) {
                if (try? Data(contentsOf: URL(string: "\(base)/metrics")!))?.isEmpty == false { counts.scrapes.add(1, ordering: .relaxed) }
                Thread.sleep(forTimeInterval: 1)
            }
        }
        scraper.start()
    }

    func stop() {
        counts.stopping.store(true, ordering: .relaxed)
        kill(feed.processIdentifier, SIGKILL)
        feed.waitUntilExit()
        server.stop()
        BenchReport.progress("watched: \(counts.scrapes.load(ordering: .relaxed)) scrapes of /metrics, live feed open throughout")
    }
}
