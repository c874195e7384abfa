import ReelCore
import ReelWire

/// The coordinator's brain: which worker runs which task under which lease, and what state
/// each job is in. A pure state machine: `handle` takes an event and the current time and
/// returns directives; it never touches a socket, a file or a clock. Every task and job
/// state change happens here, with its reason.
public struct Scheduler: Sendable {
    struct Worker: Sendable {
        var hello: WorkerHello
        var lastSeen: Double
        var lastHeartbeatSent: Double
        var leases: Set<LeaseRef> = []
    }

    enum Phase: Sendable, Equatable { case pending, leased, committing, done }

    /// One worker's lease of a task: its attempt number and when it was given.
    struct Holding: Sendable, Equatable {
        var attempt: UInt32
        var since: Double
    }

    /// Dispatch order: higher job priority first, then older jobs, then longer tasks
    /// (longest-processing-time first shortens the tail), then plan order.
    struct DispatchOrder: Sendable, Comparable {
        var priority: Int
        var job: Int64
        var cost: Int
        var chunk: Int

        static func < (a: Self, b: Self) -> Bool {
            (-a.priority, a.job, -a.cost, a.chunk) < (-b.priority, b.job, -b.cost, b.chunk)
        }
    }

    struct Task: Sendable {
        let id: Int64
        let job: Int64
        let chunk: Int
        let work: ChunkWork
        var order: DispatchOrder
        var phase: Phase
        /// The latest attempt number given out.
        var attempt: UInt32
        /// Workers holding a lease of this task: one, or two while a straggler has a backup.
        var holders: [WorkerID: Holding] = [:]
        /// The holder whose result is being (or was) committed.
        var winner: WorkerID?
        var leaseExpiresAt: Double = 0
        /// Failures reported by workers (lost leases do not count).
        var failures = 0
        /// Not retried before this time (back-off after a failure).
        var notBefore: Double = 0
        /// Workers that failed this task: it goes elsewhere when it can.
        var avoid: Set<WorkerID> = []
        /// Dependencies not yet committed; the task is ready when this is 0.
        var unmetDependencies = 0
    }

    struct Job: Sendable {
        var state: JobState
        var remaining: Int
        var priority: Int
        /// True when paused because the disk is full: resumed when space returns.
        var pausedForSpace = false
        var failuresByWorker: [WorkerID: Int] = [:]
        var blocklist: Set<WorkerID> = []
        /// Lease-to-result times of the job's latest tasks, for spotting stragglers.
        var recentDurations: [Double] = []
    }

    public let timings: SchedulerTimings
    var workers: [WorkerID: Worker] = [:]
    var tasks: [Int64: Task] = [:]
    var jobs: [Int64: Job] = [:]
    /// Tasks that wait for each task (the inverse of dependencies).
    var dependents: [Int64: [Int64]] = [:]
    /// Ready task ids (pending, job running, dependencies met), sorted by ``DispatchOrder``.
    var pending: [Int64] = []
    var pendingSet: Set<Int64> = []

    public init(timings: SchedulerTimings = SchedulerTimings()) {
        self.timings = timings
    }

    // MARK: Queries

    /// Workers currently alive.
    public var workerCount: Int { workers.count }
    /// Live workers and how many leases each holds.
    public var workerLoads: [WorkerID: Int] { workers.mapValues { $0.leases.count } }

    /// (done, total) chunk counts of a job known to the scheduler.
    public func progress(job: Int64) -> (done: Int, total: Int)? {
        let jobTasks = tasks.values.filter { $0.job == job }
        guard !jobTasks.isEmpty else { return nil }
        return (jobTasks.filter { $0.phase == .done }.count, jobTasks.count)
    }

    /// The state the scheduler holds for a job, if it is loaded.
    public func state(job: Int64) -> JobState? { jobs[job]?.state }

    /// Workers blocklisted for a job.
    public func blocklist(job: Int64) -> Set<WorkerID> { jobs[job]?.blocklist ?? [] }

    /// Whether a job is paused because the disk is full.
    public var hasJobsPausedForSpace: Bool { jobs.values.contains { $0.pausedForSpace } }

    // MARK: Jobs

    /// Loads a job's tasks. A task leased when the coordinator stopped stays leased to its
    /// holder (it may still deliver) until the lease expires. Jobs of higher `priority` are
    /// dispatched first.
    public mutating func addJob(
        _ job: Int64, priority: Int = 0, state: JobState = .running, pausedForSpace: Bool = false, tasks stored: [StoredTask],
        now: Double
    ) {
        var remaining = 0
        let done = Set(stored.filter(\.done).map(\.id))
        for entry in stored {
            let order = DispatchOrder(priority: priority, job: job, cost: entry.work.resultCount * entry.work.steps, chunk: entry.chunk)
            var task = Task(
                id: entry.id, job: job, chunk: entry.chunk, work: entry.work, order: order, phase: entry.done ? .done : .pending,
                attempt: entry.attempt)
            task.unmetDependencies = entry.dependencies.filter { !done.contains($0) }.count
            for dependency in entry.dependencies { dependents[dependency, default: []].append(entry.id) }
            if !entry.done {
                remaining += 1
                if let holder = entry.leasedTo {
                    task.phase = .leased
                    task.holders[holder] = Holding(attempt: entry.attempt, since: now)
                    task.leaseExpiresAt = now + timings.leaseSeconds
                    workers[holder]?.leases.insert(LeaseRef(task: entry.id, attempt: entry.attempt))
                }
            }
            tasks[entry.id] = task
        }
        jobs[job] = Job(state: state, remaining: remaining, priority: priority, pausedForSpace: pausedForSpace && state == .paused)
        rebuildPending()
    }

    /// Forgets a finished job's tasks (its rows stay in the store).
    public mutating func removeJob(_ job: Int64) {
        jobs[job] = nil
        for task in tasks.values where task.job == job {
            tasks[task.id] = nil
            dependents[task.id] = nil
        }
        rebuildPending()
    }

    // MARK: Events

    public mutating func handle(_ event: SchedulerEvent, now: Double) -> [SchedulerDirective] {
        var out: [SchedulerDirective] = []
        switch event {
        case .workerReady(let id, let hello):
            out += workerReady(id, hello, now: now)
        case .heartbeat(let id):
            if workers[id] == nil {
                out.append(.send(id, .disconnect(reason: "unknown worker: send READY")))
            } else {
                renew(id, now: now)
            }
        case .resultArrived(let id, let lease):
            renew(id, now: now)
            out += acceptResult(from: id, lease: lease, now: now)
        case .committed(let lease):
            out += committed(lease)
        case .commitFailed(let lease, let reason, let diskFull):
            out += commitFailed(lease, reason: reason, diskFull: diskFull)
        case .dispatchFailed(let lease, let reason, let diskFull):
            out += dispatchFailed(lease, reason: reason, diskFull: diskFull)
        case .taskFailed(let id, let lease, let reason):
            renew(id, now: now)
            out += taskFailed(from: id, lease: lease, reason: reason, now: now)
        case .control(let job, let action):
            out += control(job, action)
        case .spaceAvailable:
            for (id, job) in jobs.sorted(by: { $0.key < $1.key }) where job.pausedForSpace {
                out += resume(id, reason: "disk space is back")
            }
        case .tick:
            out += expire(now: now)
        }
        // Heartbeats and straggler backups are periodic work: done on ticks (every loop of
        // the shell, at least every 100 ms), not on every message.
        let periodic: Bool = if case .tick = event { true } else { false }
        if periodic { out += heartbeats(now: now) }
        out += dispatch(now: now, backups: periodic)
        return out
    }

    private mutating func workerReady(_ id: WorkerID, _ hello: WorkerHello, now: Double) -> [SchedulerDirective] {
        var worker = workers[id] ?? Worker(hello: hello, lastSeen: now, lastHeartbeatSent: now)
        worker.hello = hello
        // Re-adopt leases this worker held before a reconnect or a coordinator restart.
        for task in tasks.values where task.phase == .leased {
            if let holding = task.holders[id] { worker.leases.insert(LeaseRef(task: task.id, attempt: holding.attempt)) }
        }
        let joined = workers[id] == nil
        workers[id] = worker
        renew(id, now: now)
        return joined ? [.log("worker \(id) joined (\(hello.backends.joined(separator: ",")), \(hello.slots) slot(s))")] : []
    }

    /// Any message from a known worker proves it alive and renews its leases.
    mutating func renew(_ id: WorkerID, now: Double) {
        guard var worker = workers[id] else { return }
        worker.lastSeen = now
        for lease in worker.leases { tasks[lease.task]?.leaseExpiresAt = now + timings.leaseSeconds }
        workers[id] = worker
    }
}
