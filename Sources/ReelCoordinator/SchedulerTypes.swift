import ReelCore
import ReelWire

/// A worker's identity: its ZeroMQ routing id (its unique name), prefixed with its
/// authenticated CURVE identity when authentication is on.
public typealias WorkerID = String

/// Timings and limits of leases, liveness, retries and dispatch.
public struct SchedulerTimings: Sendable, Hashable {
    /// How often each side sends a heartbeat when it has nothing else to say.
    public var heartbeatSeconds: Double
    /// A worker silent this long is dead; its leases are requeued.
    public var workerTimeoutSeconds: Double
    /// A lease not renewed (by any message from its holder) for this long expires: the backstop
    /// behind the worker timeout and the progress check (`stallSeconds`).
    public var leaseSeconds: Double
    /// Failed attempts of one task before its job fails.
    public var maxFailures: Int
    /// Failures of one job's tasks on one worker before that worker is blocklisted for the job.
    public var blocklistAfter: Int
    /// Delay before a failed task is retried; doubles with each failure, capped at 30 s.
    public var retryBackoffSeconds: Double
    /// Tasks queued at a worker beyond its running slots, so it never waits for the next one.
    /// Given only while more tasks are ready than there are workers (never at a stage's tail).
    public var prefetch: Int
    /// A task still running this many times its job's median task time is a straggler: an
    /// idle worker gets a backup lease of it, and the first result wins.
    public var stragglerFactor: Double
    /// Tasks of each job held in memory at once; the rest wait in the store and are paged in,
    /// in plan order, as these are committed, so memory does not grow with video length.
    public var residentTasks: Int
    /// A worker holding leases that advances none of them (no step reported, no result) for
    /// this long, or for `stallFactor` times its jobs' median step time if that is longer,
    /// loses them: a lease is kept by progress, not by presence. Covers a cold model load.
    public var stallSeconds: Double
    public var stallFactor: Double = 20
    /// Lost leases (silent or stalled holders) of one task before each further one counts as a failure.
    public var lostLeasesForgiven = 2
    /// The fraction of tasks whose result is verified by recomputing it on a worker of another
    /// principal before it is committed (chosen by task id, so the same after a restart).
    public var verifyFraction: Double
    /// Results of one task that may disagree before its job fails (a backend that is not deterministic).
    public var maxVotes = 5
    /// Workers the coordinator keeps at once; past it a new one replaces the longest-silent one, or is refused.
    public var maxWorkers: Int
    /// Leases the jobs of one submitter (owner) may hold at once; 0: no cap.
    public var submitterTaskCap = 0

    public init(
        heartbeatSeconds: Double = 1, workerTimeoutSeconds: Double = 5, leaseSeconds: Double = 30, maxFailures: Int = 3,
        blocklistAfter: Int = 3, retryBackoffSeconds: Double = 0.5, prefetch: Int = 1, stragglerFactor: Double = 1.5,
        residentTasks: Int = 4096, stallSeconds: Double = 120, maxWorkers: Int = 4096, verifyFraction: Double = 0
    ) {
        self.stallSeconds = stallSeconds
        self.maxWorkers = maxWorkers
        self.verifyFraction = verifyFraction
        self.heartbeatSeconds = heartbeatSeconds
        self.workerTimeoutSeconds = workerTimeoutSeconds
        self.leaseSeconds = leaseSeconds
        self.maxFailures = maxFailures
        self.blocklistAfter = blocklistAfter
        self.retryBackoffSeconds = retryBackoffSeconds
        self.prefetch = prefetch
        self.stragglerFactor = stragglerFactor
        self.residentTasks = max(1, residentTasks)
    }
}

extension SchedulerTimings {
    /// Every timing or limit out of range, each naming its coordinator option; checked at
    /// start, so no later arithmetic on them can trap (a lease's milliseconds fit a UInt32).
    public func problems() -> [String] {
        var problems: [String] = []
        func check(_ option: String, _ value: Double, _ range: ClosedRange<Double>, _ unit: String = "seconds") {
            if !(range.contains(value)) {
                problems.append("--\(option): must be between \(range.lowerBound.optionText) and \(range.upperBound.optionText) \(unit) (got \(value.optionText))")
            }
        }
        check("heartbeat", heartbeatSeconds, 0.05...60)
        check("worker-timeout", workerTimeoutSeconds, 0.1...3600)
        check("lease", leaseSeconds, 1...86400)
        check("max-failures", Double(maxFailures), 1...1000, "failures")
        check("blocklist-after", Double(blocklistAfter), 1...1000, "failures")
        check("retry-backoff", retryBackoffSeconds, 0...30)
        check("prefetch", Double(prefetch), 0...64, "tasks")
        check("straggler-factor", stragglerFactor, 0...1000, "times the median")
        check("resident-tasks", Double(residentTasks), 1...1_000_000, "tasks")
        check("stall-timeout", stallSeconds, 0.5...86400)
        check("max-workers", Double(maxWorkers), 1...100_000, "workers")
        check("verify-fraction", verifyFraction, 0...1, "(a fraction)")
        check("max-tasks-per-submitter", Double(submitterTaskCap), 0...1_000_000, "tasks")
        if problems.isEmpty && workerTimeoutSeconds <= heartbeatSeconds {
            problems.append("--worker-timeout: must exceed --heartbeat (\(heartbeatSeconds.optionText) s) (got \(workerTimeoutSeconds.optionText))")
        }
        return problems
    }
}

extension Double {
    /// The number as a person writes it: no ".0" on whole numbers.
    var optionText: String { self == rounded() && abs(self) < 1e15 ? String(Int(self)) : String(self) }
}

/// A task as the store holds it, handed to the scheduler when a job is loaded or paged in.
public struct StoredTask: Sendable {
    public var id: Int64
    /// Its place in its job's page order (``Planner/pageOrder(_:)``); its id when not given.
    public var position: Int64
    /// The task's unit index in its job's plan (also its dispatch order among equals).
    public var chunk: Int
    public var work: ChunkWork
    public var done: Bool
    public var attempt: UInt32
    /// The lease holder, for a task leased when the coordinator last stopped.
    public var leasedTo: WorkerID?
    /// Tasks (ids) that must be committed before this one may run; always lower ids (a plan
    /// lists a unit after its dependencies).
    public var dependencies: [Int64]
    /// Its plan unit's stage (for the operator's gauges).
    public var stage: TaskStage

    public init(
        id: Int64, position: Int64? = nil, chunk: Int, work: ChunkWork, done: Bool, attempt: UInt32 = 0, leasedTo: WorkerID? = nil,
        dependencies: [Int64] = [], stage: TaskStage = .chunks
    ) {
        self.stage = stage
        self.id = id
        self.position = position ?? id
        self.chunk = chunk
        self.work = work
        self.done = done
        self.attempt = attempt
        self.leasedTo = leasedTo
        self.dependencies = dependencies
    }
}

/// A page of a job's tasks the scheduler asks the shell for: up to `count` uncommitted
/// tasks after position `after` of the job's page order, handed back with ``Scheduler/addTasks(_:job:through:allLoaded:now:)``.
public struct TaskPageRequest: Sendable, Equatable {
    public var job: Int64
    public var after: Int64
    public var count: Int
}

/// What happened, as the shell tells the scheduler.
public enum SchedulerEvent: Sendable {
    case workerReady(WorkerID, WorkerHello)
    /// A HEARTBEAT from a worker, with how far it has got with the tasks it runs.
    case heartbeat(WorkerID, progress: [TaskProgress] = [])
    /// `digest`: the SHA-256 of the result's bytes (verification compares results by it).
    case resultArrived(WorkerID, LeaseRef, digest: String = "")
    /// The shell committed the result of `lease` (artifact written, row updated).
    case committed(LeaseRef)
    /// The shell could not commit the result of `lease`; `diskFull` pauses the job.
    case commitFailed(LeaseRef, reason: String, diskFull: Bool)
    /// The shell could not record a lease, so the task was never sent.
    case dispatchFailed(LeaseRef, reason: String, diskFull: Bool)
    /// `outOfMemory`: the worker ran out of memory on it (then it goes only to workers with more).
    case taskFailed(WorkerID, LeaseRef, reason: String, outOfMemory: Bool = false)
    /// A worker said goodbye (it was stopped, or is idle and leaving): its leases go back at
    /// once, with no failure counted, instead of waiting for it to go silent.
    case workerLeft(WorkerID, reason: String)
    /// A client asked to pause, resume or cancel a job.
    case control(job: Int64, JobControl)
    /// The disk has room again: resume jobs paused for lack of it.
    case spaceAvailable
    /// The job's video is encoded; `checksums` go into its record.
    case encodeFinished(job: Int64, OutputChecksums)
    /// The job's video could not be encoded; `diskFull` pauses the job instead of failing it.
    case encodeFailed(job: Int64, reason: String, diskFull: Bool)
    /// The shell built these tasks' conditioning (or failed to: then it is built again at
    /// dispatch, where a failure is the task's): they may go out.
    case conditioned([Int64])
    /// Time passed: expire silent workers and leases, send heartbeats, dispatch.
    case tick
}

/// What the shell must do, in order.
public enum SchedulerDirective: Sendable, Equatable {
    /// Persist the lease, then send the task (never the other way round). `unit` is the
    /// task's unit in `job`'s plan.
    case dispatch(WorkerID, TaskAssignment, job: Int64, unit: Int, expiresAt: Double)
    /// Write the artifact and commit the task's row, then report `committed` or `commitFailed`.
    case commit(WorkerID, LeaseRef, job: Int64, chunk: Int)
    /// Persist the task's return to pending, with the reason.
    case requeue(task: Int64, reason: String)
    case send(WorkerID, WireMessage)
    /// Every chunk of the job is committed: stitch and encode it (the job is `encoding`).
    case chunksComplete(job: Int64)
    /// Persist the job's new state and the reason for it.
    case setJobState(job: Int64, JobState, reason: String?)
    /// The job is done: persist that with its output's checksums and forget its plan.
    case finishJob(job: Int64, OutputChecksums)
    /// A principal's result lost a majority vote: record it with the reason; its workers are
    /// gone and refused from now on. Then find the tasks it committed for jobs not yet done,
    /// and their dependents, and hand them back with ``Scheduler/reopen(_:job:now:)``.
    case quarantine(principal: WorkerID, reason: String)
    /// A message was ignored (stale, duplicate, foreign, for a stopped job): count and log it.
    case ignored(String)
    case log(String)
}

/// The checksums of a finished job's output, recorded with it.
public struct OutputChecksums: Sendable, Hashable {
    /// Hex FNV-1a of the stitched latents, in frame order.
    public var latents: String
    /// Hex FNV-1a of the encoded frames' pixels.
    public var frames: String

    public init(latents: String, frames: String) {
        self.latents = latents
        self.frames = frames
    }
}
