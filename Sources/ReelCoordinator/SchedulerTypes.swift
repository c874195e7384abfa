import ReelCore
import ReelWire

/// A worker's identity: its ZeroMQ routing id, which the worker sets to its unique name.
public typealias WorkerID = String

/// Timings of leases and liveness.
public struct SchedulerTimings: Sendable, Hashable {
    /// How often each side sends a heartbeat when it has nothing else to say.
    public var heartbeatSeconds: Double
    /// A worker silent this long is dead; its leases are requeued.
    public var workerTimeoutSeconds: Double
    /// A lease not renewed (by any message from its holder) for this long expires.
    public var leaseSeconds: Double
    /// Failed attempts of one task before its job fails.
    public var maxFailures: Int

    public init(heartbeatSeconds: Double = 1, workerTimeoutSeconds: Double = 5, leaseSeconds: Double = 30, maxFailures: Int = 3) {
        self.heartbeatSeconds = heartbeatSeconds
        self.workerTimeoutSeconds = workerTimeoutSeconds
        self.leaseSeconds = leaseSeconds
        self.maxFailures = maxFailures
    }
}

/// What happened, as the shell tells the scheduler.
public enum SchedulerEvent: Sendable {
    case workerReady(WorkerID, WorkerHello)
    /// Any message from a worker that is not otherwise an event (HEARTBEAT).
    case heartbeat(WorkerID)
    case resultArrived(WorkerID, LeaseRef)
    /// The shell committed the result of `lease` (artifact written, row updated).
    case committed(LeaseRef)
    /// The shell could not commit the result of `lease`.
    case commitFailed(LeaseRef, reason: String)
    case taskFailed(WorkerID, LeaseRef, reason: String)
    /// Time passed: expire silent workers and leases, send heartbeats, dispatch.
    case tick
}

/// What the shell must do, in order.
public enum SchedulerDirective: Sendable, Equatable {
    /// Persist the lease, then send the task (never the other way round).
    case dispatch(WorkerID, TaskAssignment, expiresAt: Double)
    /// Write the artifact and commit the task's row, then report `committed` or `commitFailed`.
    case commit(WorkerID, LeaseRef, job: Int64, chunk: Int)
    /// Persist the task's return to pending.
    case requeue(task: Int64, reason: String)
    case send(WorkerID, WireMessage)
    /// Every chunk of the job is committed: stitch and encode it.
    case chunksComplete(job: Int64)
    case failJob(job: Int64, reason: String)
    /// A message was ignored (stale, duplicate, foreign): count and log it.
    case ignored(String)
    case log(String)
}
