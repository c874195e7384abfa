import Foundation
import Logging
import ReelCoordinator
import ReelCore
import ReelPlan

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
        var metrics: CoordinatorMetrics
    }

    let scratch: String

    func run(_ spec: JobSpec, workers count: Int, timings: SchedulerTimings, encode: Bool = false) throws -> Run {
        // Data folders stay until the whole suite ends: deleting thousands of files just before
        // the next run would slow its file creation (ext4 skips recently deleted inodes).
        let data = "\(scratch)/farm-\(count)-\(UUID().uuidString.prefix(8))"
        var logger = Logger(label: "reel.bench") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .error
        var options = CoordinatorOptions(dataDirectory: data, bind: "tcp://127.0.0.1:*", timings: timings, outputRoot: scratch)
        options.encodeOutputs = encode
        let coordinator = try ReelCoordinator.Coordinator(options: options, logger: logger)
        var processes: [Process] = []
        defer {
            for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) }
            for process in processes { process.waitUntilExit() }
        }
        for index in 0..<count {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: ProcessSetup.executablePath)
            process.arguments = [
                "worker", "--connect", coordinator.endpoint, "--name", "bench-\(index)", "--backend", spec.backend.rawValue,
                "--log-level", "error",
            ]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            // In a real farm workers have machines of their own; here they share the
            // coordinator's 2 cores, so they yield to it.
            setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(process.processIdentifier), 19)
            processes.append(process)
        }
        let started = Date()
        var job: Int64?
        var submittedAt = Date()
        var finishedAt: Date?, outputAt: Date?
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
                do { job = try coordinator.submit(spec) } catch {
                    failure = error
                    return true
                }
                return false
            }
            if finishedAt == nil && coordinator.tasksFinished(job: job) { finishedAt = Date() }
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
            toOutputSeconds: outputAt?.timeIntervalSince(submittedAt), metrics: coordinator.metrics)
    }
}
