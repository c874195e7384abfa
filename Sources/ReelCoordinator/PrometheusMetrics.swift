import Prometheus
import ReelCore
import Synchronization

/// Why the coordinator dropped a message: a label with few values.
enum DropCause: String, CaseIterable, Sendable {
    case malformed, forbidden, unknownPeer = "unknown-peer", badResult = "bad-result", stale, unexpected, refused
}

/// The coordinator's metrics in Prometheus' text format (served at `/metrics` by ReelHTTP).
/// The coordinator's thread records into it (each record is a short lock inside
/// swift-prometheus); the HTTP server's threads only read it. Names follow Prometheus'
/// conventions: a `reel_` prefix, base units in the name, `_total` on counters.
public final class PrometheusMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    /// When the coordinator's loop last turned (Unix seconds, as a bit pattern): `/healthz`.
    private let loopTurnedAt = Atomic<UInt64>(0)

    let tasksDispatched: Counter
    let tasksCommitted: Counter
    let samplerSeconds: Counter
    let bytesCommitted: Counter
    let framesEncoded: Counter
    let droppedMessages: [DropCause: Counter]
    let requeues: [RequeueCause: Counter]
    let jobsFinished: [JobState: Counter]
    let dispatchLatency: ValueHistogram
    let roundTrip: ValueHistogram
    let conditioningBuild: ValueHistogram
    let jobs: [JobState: Gauge]
    let tasks: [String: Gauge]
    /// Ready and leased tasks by stage: `[stage][state]`.
    let stageTasks: [TaskStage: [String: Gauge]]
    let workers: Gauge
    let busyWorkers: Gauge

    /// Why a task went back to the queue, as a label with few values, read from the
    /// scheduler's requeue reasons ("worker W went silent", "worker W left", "worker W failed
    /// it: ...", or another).
    enum RequeueCause: String, CaseIterable, Sendable {
        case silent, left, failed, other

        init(reason: String) {
            self =
                reason.hasSuffix(" went silent")
                ? .silent : reason.hasSuffix(" left") ? .left : reason.contains("failed") ? .failed : .other
        }
    }

    public init() {
        func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "reel", metricName: metric, unitName: unit, helpText: help)
        }
        tasksDispatched = registry.makeCounter(descriptor: name("tasks_dispatched", "total", "Tasks sent to workers (leases granted)."))
        tasksCommitted = registry.makeCounter(descriptor: name("tasks_committed", "total", "Task results committed to the store."))
        samplerSeconds = registry.makeCounter(
            descriptor: name("sampler", "seconds_total", "Sampling time the committed results' workers reported."))
        bytesCommitted = registry.makeCounter(descriptor: name("committed", "bytes_total", "Bytes of committed task results (latents)."))
        framesEncoded = registry.makeCounter(descriptor: name("frames_encoded", "total", "Video frames of finished jobs encoded."))
        var dropped: [DropCause: Counter] = [:]
        for cause in DropCause.allCases {
            dropped[cause] = registry.makeCounter(
                descriptor: name(
                    "dropped_messages", "total",
                    "Messages dropped, by reason: malformed, forbidden (the key's role), unknown-peer (no READY), bad-result (size or checksum), stale (for a lease no longer held), unexpected, refused (a READY refused)."
                ), labels: [("reason", cause.rawValue)])
        }
        droppedMessages = dropped
        var requeues: [RequeueCause: Counter] = [:]
        for cause in RequeueCause.allCases {
            requeues[cause] = registry.makeCounter(
                descriptor: name("requeues", "total", "Tasks put back in the queue, by cause (silent, left, failed, other)."),
                labels: [("cause", cause.rawValue)])
        }
        self.requeues = requeues
        var finished: [JobState: Counter] = [:]
        for state in [JobState.done, .failed, .cancelled] {
            finished[state] = registry.makeCounter(
                descriptor: name("jobs_finished", "total", "Jobs that reached done, failed or cancelled."),
                labels: [("state", state.rawValue)])
        }
        jobsFinished = finished
        let buckets = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]
        dispatchLatency = registry.makeValueHistogram(
            descriptor: name("dispatch_latency", "seconds", "From what made a task dispatchable to its lease being sent."), buckets: buckets
        )
        roundTrip = registry.makeValueHistogram(
            descriptor: name("commit_latency", "seconds", "From a task sent to its result committed and acknowledged."), buckets: buckets)
        conditioningBuild = registry.makeValueHistogram(
            descriptor: name(
                "conditioning_build", "seconds",
                "Building a task's conditioning (its pinned frames, a seam's initial state) beside the coordinator's loop, once per task."),
            buckets: buckets)
        var jobs: [JobState: Gauge] = [:]
        for state in [JobState.running, .paused, .encoding] {
            jobs[state] = registry.makeGauge(
                descriptor: name("jobs", "", "Jobs in the coordinator by state (running, paused, encoding)."),
                labels: [("state", state.rawValue)])
        }
        self.jobs = jobs
        var tasks: [String: Gauge] = [:]
        for state in ["ready", "leased", "outstanding"] {
            tasks[state] = registry.makeGauge(
                descriptor: name(
                    "tasks", "",
                    "Tasks of running jobs: ready (waiting for a worker), leased (at a worker), outstanding (all uncommitted; the queue depth to scale workers on)."
                ), labels: [("state", state)])
        }
        self.tasks = tasks
        var stageTasks: [TaskStage: [String: Gauge]] = [:]
        for stage in TaskStage.allCases {
            for state in ["ready", "leased"] {
                stageTasks[stage, default: [:]][state] = registry.makeGauge(
                    descriptor: name(
                        "stage_tasks", "", "Ready and leased tasks of running jobs by stage (keyframes, chunks, seams, decode)."),
                    labels: [("stage", stage.rawValue), ("state", state)])
            }
        }
        self.stageTasks = stageTasks
        workers = registry.makeGauge(descriptor: name("workers", "", "Live workers."))
        busyWorkers = registry.makeGauge(descriptor: name("workers_busy", "", "Live workers holding at least one task."))
    }

    // MARK: Recording (the coordinator's thread)

    func loopTurned(at time: Double) { loopTurnedAt.store(time.bitPattern, ordering: .relaxed) }
    func dispatched(latency: Double) {
        tasksDispatched.increment()
        dispatchLatency.record(latency)
    }
    func committed(samplerSeconds seconds: Double, bytes: Int) {
        tasksCommitted.increment()
        samplerSeconds.increment(by: seconds)
        bytesCommitted.increment(by: Int64(bytes))
    }
    func acknowledged(roundTrip seconds: Double) { roundTrip.record(seconds) }
    func conditioned(buildSeconds seconds: Double) { conditioningBuild.record(seconds) }
    func requeued(reason: String) { requeues[RequeueCause(reason: reason)]!.increment() }
    func dropped(_ cause: DropCause) { droppedMessages[cause]!.increment() }
    func finished(_ state: JobState, frames: Int) {
        jobsFinished[state]?.increment()
        if state == .done { framesEncoded.increment(by: Int64(frames)) }
    }

    func publish(_ gauges: FarmGauges) {
        for (state, gauge) in jobs { gauge.set(Double(gauges.jobs[state] ?? 0)) }
        tasks["ready"]!.set(Double(gauges.readyTasks))
        tasks["leased"]!.set(Double(gauges.leasedTasks))
        tasks["outstanding"]!.set(Double(gauges.outstandingTasks))
        for (stage, states) in stageTasks {
            states["ready"]!.set(Double(gauges.readyByStage[stage] ?? 0))
            states["leased"]!.set(Double(gauges.leasedByStage[stage] ?? 0))
        }
        workers.set(Double(gauges.workers))
        busyWorkers.set(Double(gauges.busyWorkers))
    }

    // MARK: Reading (any thread)

    /// Seconds since the coordinator's loop last turned; nil before its first turn.
    public func loopAge(now: Double) -> Double? {
        let bits = loopTurnedAt.load(ordering: .relaxed)
        return bits == 0 ? nil : max(0, now - Double(bitPattern: bits))
    }

    /// The text exposition of every metric.
    public func exposition() -> String { registry.emitToString() }
}
