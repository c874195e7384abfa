import ReelCore
import ReelWire

/// The coordinator's brain: which worker runs which task under which lease. A pure state
/// machine: `handle` takes an event and the current time and returns directives; it never
/// touches a socket, a file or a clock. Every task state change happens here.
public struct Scheduler: Sendable {
    struct Worker: Sendable {
        var hello: WorkerHello
        var lastSeen: Double
        var lastHeartbeatSent: Double
        var leases: Set<LeaseRef> = []
    }

    enum Phase: Sendable, Equatable { case pending, leased, committing, done }

    struct Task: Sendable {
        let id: Int64
        let job: Int64
        let chunk: Int
        let work: ChunkWork
        var phase: Phase
        var attempt: UInt32
        var worker: WorkerID?
        var leaseExpiresAt: Double
        var failures: Int = 0
    }

    struct Job: Sendable {
        var remaining: Int
        var failed = false
    }

    public let timings: SchedulerTimings
    var workers: [WorkerID: Worker] = [:]
    var tasks: [Int64: Task] = [:]
    var jobs: [Int64: Job] = [:]
    /// Pending task ids in dispatch order (job, then chunk).
    var pending: [Int64] = []

    public init(timings: SchedulerTimings = SchedulerTimings()) {
        self.timings = timings
    }

    // MARK: Queries

    /// Workers currently alive.
    public var workerCount: Int { workers.count }
    /// Names of live workers and how many leases each holds.
    public var workerLoads: [WorkerID: Int] { workers.mapValues { $0.leases.count } }

    /// (done, total) chunk counts of a job known to the scheduler.
    public func progress(job: Int64) -> (done: Int, total: Int)? {
        let jobTasks = tasks.values.filter { $0.job == job }
        guard !jobTasks.isEmpty else { return nil }
        return (jobTasks.filter { $0.phase == .done }.count, jobTasks.count)
    }

    // MARK: Jobs

    /// Adds a job's tasks. `state` of each: pending, leased (restored after a restart, with its
    /// holder and attempt) or done.
    public mutating func addJob(
        _ job: Int64,
        tasks newTasks: [(
            id: Int64, chunk: Int, work: ChunkWork, done: Bool,
            attempt: UInt32, leasedTo: WorkerID?
        )], now: Double
    ) {
        var remaining = 0
        for entry in newTasks.sorted(by: { $0.chunk < $1.chunk }) {
            var task = Task(
                id: entry.id, job: job, chunk: entry.chunk, work: entry.work, phase: entry.done ? .done : .pending,
                attempt: entry.attempt, worker: nil, leaseExpiresAt: 0)
            if !entry.done {
                remaining += 1
                if let holder = entry.leasedTo {
                    task.phase = .leased
                    task.worker = holder
                    task.leaseExpiresAt = now + timings.leaseSeconds
                    workers[holder]?.leases.insert(LeaseRef(task: entry.id, attempt: entry.attempt))
                } else {
                    pending.append(entry.id)
                }
            }
            tasks[entry.id] = task
        }
        jobs[job] = Job(remaining: remaining)
        pending.sort { (tasks[$0]!.job, tasks[$0]!.chunk) < (tasks[$1]!.job, tasks[$1]!.chunk) }
    }

    // MARK: Events

    public mutating func handle(_ event: SchedulerEvent, now: Double) -> [SchedulerDirective] {
        var out: [SchedulerDirective] = []
        switch event {
        case .workerReady(let id, let hello):
            var worker = workers[id] ?? Worker(hello: hello, lastSeen: now, lastHeartbeatSent: now)
            worker.hello = hello
            worker.lastSeen = now
            // Re-adopt leases this worker held before a reconnect or a coordinator restart.
            for task in tasks.values where task.phase == .leased && task.worker == id {
                worker.leases.insert(LeaseRef(task: task.id, attempt: task.attempt))
            }
            if workers[id] == nil {
                out.append(.log("worker \(id) joined (\(hello.backends.joined(separator: ",")), \(hello.slots) slot(s))"))
            }
            workers[id] = worker
            renew(id, now: now)
        case .heartbeat(let id):
            if workers[id] == nil {
                out.append(.send(id, .disconnect(reason: "unknown worker: send READY")))
            } else {
                renew(id, now: now)
            }
        case .resultArrived(let id, let lease):
            out += acceptResult(from: id, lease: lease, now: now)
        case .committed(let lease):
            out += committed(lease)
        case .commitFailed(let lease, let reason):
            if var task = tasks[lease.task], task.phase == .committing {
                task.phase = .pending
                task.worker = nil
                tasks[lease.task] = task
                insertPending(lease.task)
                out.append(.requeue(task: lease.task, reason: "commit failed: \(reason)"))
            }
        case .taskFailed(let id, let lease, let reason):
            out += taskFailed(from: id, lease: lease, reason: reason, now: now)
        case .tick:
            out += expire(now: now)
        }
        if case .tick = event {} else { renewIfKnown(event, now: now) }
        out += heartbeats(now: now)
        out += dispatch(now: now)
        return out
    }

    private mutating func renewIfKnown(_ event: SchedulerEvent, now: Double) {
        switch event {
        case .resultArrived(let id, _), .taskFailed(let id, _, _): if workers[id] != nil { renew(id, now: now) }
        default: break
        }
    }

    /// Any message from a worker proves it alive and renews its leases.
    private mutating func renew(_ id: WorkerID, now: Double) {
        guard var worker = workers[id] else { return }
        worker.lastSeen = now
        for lease in worker.leases { tasks[lease.task]?.leaseExpiresAt = now + timings.leaseSeconds }
        workers[id] = worker
    }

    private mutating func acceptResult(from id: WorkerID, lease: LeaseRef, now: Double) -> [SchedulerDirective] {
        guard var task = tasks[lease.task] else { return [.ignored("result for unknown task \(lease.task) from \(id)")] }
        if jobs[task.job]?.failed == true { return [.ignored("result for \(lease) of failed job \(task.job) from \(id)")] }
        guard task.phase == .leased, task.attempt == lease.attempt, task.worker == id else {
            let why = task.phase == .done || task.phase == .committing ? "duplicate" : "stale"
            return [
                .ignored(
                    "\(why) result for \(lease) from \(id) (task is \(task.phase), attempt \(task.attempt), holder \(task.worker ?? "none"))"
                )
            ]
        }
        task.phase = .committing
        tasks[lease.task] = task
        workers[id]?.leases.remove(lease)
        var out: [SchedulerDirective] = [.commit(id, lease, job: task.job, chunk: task.chunk)]
        if workers[id] == nil { out.append(.send(id, .disconnect(reason: "unknown worker: send READY"))) }
        return out
    }

    private mutating func committed(_ lease: LeaseRef) -> [SchedulerDirective] {
        guard var task = tasks[lease.task], task.phase == .committing else { return [] }
        task.phase = .done
        tasks[lease.task] = task
        var out: [SchedulerDirective] = []
        if let holder = task.worker { out.append(.send(holder, .ack(lease))) }
        jobs[task.job]?.remaining -= 1
        if jobs[task.job]?.remaining == 0 && jobs[task.job]?.failed == false { out.append(.chunksComplete(job: task.job)) }
        return out
    }

    private mutating func taskFailed(from id: WorkerID, lease: LeaseRef, reason: String, now: Double) -> [SchedulerDirective] {
        guard var task = tasks[lease.task], task.phase == .leased, task.attempt == lease.attempt, task.worker == id else {
            return [.ignored("failure report for \(lease) from \(id) does not match a current lease")]
        }
        workers[id]?.leases.remove(lease)
        task.failures += 1
        task.phase = .pending
        task.worker = nil
        tasks[lease.task] = task
        if task.failures >= timings.maxFailures {
            return failJob(task.job, reason: "chunk \(task.chunk) failed \(task.failures) times; last: \(reason)")
        }
        insertPending(lease.task)
        return [.requeue(task: lease.task, reason: "worker \(id) failed it: \(reason)")]
    }

    private mutating func failJob(_ job: Int64, reason: String) -> [SchedulerDirective] {
        jobs[job]?.failed = true
        pending.removeAll { tasks[$0]?.job == job }
        return [.failJob(job: job, reason: reason)]
    }

    private mutating func expire(now: Double) -> [SchedulerDirective] {
        var out: [SchedulerDirective] = []
        for (id, worker) in workers where now - worker.lastSeen > timings.workerTimeoutSeconds {
            workers[id] = nil
            out.append(.log(String(format: "worker %@ silent for %.1f s: dropped", id, now - worker.lastSeen)))
            for lease in worker.leases.sorted(by: { $0.task < $1.task }) {
                out += requeue(lease.task, reason: "worker \(id) went silent")
            }
        }
        for task in tasks.values.sorted(by: { $0.id < $1.id }) where task.phase == .leased && task.leaseExpiresAt < now {
            if let holder = task.worker { workers[holder]?.leases.remove(LeaseRef(task: task.id, attempt: task.attempt)) }
            out += requeue(task.id, reason: "lease of \(task.worker ?? "?") expired")
        }
        return out
    }

    private mutating func requeue(_ id: Int64, reason: String) -> [SchedulerDirective] {
        guard var task = tasks[id], task.phase == .leased else { return [] }
        task.phase = .pending
        task.worker = nil
        tasks[id] = task
        insertPending(id)
        return [.requeue(task: id, reason: reason)]
    }

    private mutating func insertPending(_ id: Int64) {
        guard let task = tasks[id], jobs[task.job]?.failed != true else { return }
        let key = (task.job, task.chunk)
        let position = pending.firstIndex { (tasks[$0]!.job, tasks[$0]!.chunk) > key } ?? pending.endIndex
        pending.insert(id, at: position)
    }

    private mutating func heartbeats(now: Double) -> [SchedulerDirective] {
        var out: [SchedulerDirective] = []
        for (id, worker) in workers where now - worker.lastHeartbeatSent >= timings.heartbeatSeconds {
            workers[id]?.lastHeartbeatSent = now
            out.append(.send(id, .heartbeat))
        }
        return out
    }

    /// Gives every worker with a free slot the first pending task it can run.
    private mutating func dispatch(now: Double) -> [SchedulerDirective] {
        guard !pending.isEmpty else { return [] }
        var out: [SchedulerDirective] = []
        for id in workers.keys.sorted() {
            while let worker = workers[id], worker.leases.count < Int(worker.hello.slots),
                let position = pending.firstIndex(where: { worker.hello.backends.contains(tasks[$0]!.work.backend.rawValue) })
            {
                let taskID = pending.remove(at: position)
                var task = tasks[taskID]!
                task.attempt += 1
                task.phase = .leased
                task.worker = id
                task.leaseExpiresAt = now + timings.leaseSeconds
                tasks[taskID] = task
                let lease = LeaseRef(task: taskID, attempt: task.attempt)
                workers[id]?.leases.insert(lease)
                let assignment = TaskAssignment(lease: lease, leaseMilliseconds: UInt32(timings.leaseSeconds * 1000), work: task.work)
                out.append(.dispatch(id, assignment, expiresAt: task.leaseExpiresAt))
            }
        }
        return out
    }
}
