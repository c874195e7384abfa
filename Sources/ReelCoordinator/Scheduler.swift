import ReelCore
import ReelSampler
import ReelWire

/// The coordinator's brain: which worker runs which task under which lease, and what state
/// each job is in. A pure state machine: `handle` takes an event and the current time and
/// returns directives; it never touches a socket, a file or a clock. Every task and job
/// state change happens here, with its reason.
public struct Scheduler: Sendable {
    struct Worker: Sendable {
        var hello: WorkerHello
        /// Who answers for this worker: its CURVE key's name (its id's part before `/`), or its
        /// name on loopback. Blocklists and quarantines are keyed by it, so a new name evades nothing.
        var principal: WorkerID
        var lastSeen: Double
        /// When this worker last advanced a lease it holds (a step, a result) or took its first one.
        var advancedAt: Double
        var lastHeartbeatSent: Double
        /// Whether the last heartbeat sent said the farm has work: when that changes, an idle
        /// worker (heartbeated only every few seconds) is told at once, so one that leaves
        /// when idle neither leaves as work arrives nor stays long after it is gone.
        var toldFarmHasWork = false
        var leases: Set<LeaseRef> = []
        /// The model folder this worker was last given: its sidecar keeps that model loaded.
        var warmModel: String?

        /// Whether this worker can run `work`: it offers the backend and, for a model backend, the model.
        func offers(_ work: ChunkWork) -> Bool {
            guard hello.backends.contains(work.backend.rawValue) else { return false }
            guard let model = work.model else { return true }
            return hello.models.contains("*") || hello.models.contains(model.path)
        }
    }

    enum Phase: Sendable, Equatable { case pending, leased, committing }

    /// The two kinds of work whose memory needs are learnt apart.
    enum MemoryKind: Sendable, Hashable {
        case sampling, decoding
        init(_ work: ChunkWork) { self = work.decode == nil ? .sampling : .decoding }
    }

    /// One worker's lease of a task: its attempt number and when it was given.
    struct Holding: Sendable, Equatable {
        var attempt: UInt32
        var since: Double
        /// The last step the holder reported.
        var step: UInt32 = 0
    }

    /// Dispatch order: higher job priority first; then by job (equal-priority jobs share
    /// workers by what each was served, see ``Scheduler/leaseNext``); within a job, its page
    /// order (``Planner/pageOrder(_:)``): earlier frames first, so the encoder's frontier
    /// advances while the rest renders, and keyframe sets ahead of the chunks that need them,
    /// so those do not wait for a keyframe level (decision 0049).
    struct DispatchOrder: Sendable, Comparable {
        var priority: Int
        var job: Int64
        /// The task's place in its job's page order.
        var position: Int64

        static func < (a: Self, b: Self) -> Bool {
            (-a.priority, a.job, a.position) < (-b.priority, b.job, b.position)
        }

        /// Sorts before every task of `job` at `priority`.
        static func first(priority: Int, job: Int64) -> Self { Self(priority: priority, job: job, position: .min) }
    }

    struct Task: Sendable {
        let id: Int64
        let job: Int64
        let chunk: Int
        let work: ChunkWork
        let stage: TaskStage
        /// The denoising steps it runs (``PlanCost/runSteps(_:)``), for its expected duration.
        let runSteps: Int
        /// Its work, steps times latent values: what its job is charged for it, and what a
        /// memory floor compares.
        let cost: Int
        var order: DispatchOrder
        var phase: Phase
        /// The latest attempt number given out.
        var attempt: UInt32
        /// Workers holding a lease of this task: one, or two while a straggler has a backup.
        var holders: [WorkerID: Holding] = [:]
        /// The holder whose result is being (or was) committed.
        var winner: WorkerID?
        var leaseExpiresAt: Double = 0
        /// Failures reported by workers, plus lost leases past ``SchedulerTimings/lostLeasesForgiven``.
        var failures = 0
        /// Leases lost because the holder went silent or made no progress.
        var lostLeases = 0
        /// Not retried before this time (back-off after a failure).
        var notBefore: Double = 0
        /// Workers that failed this task: it goes elsewhere when it can.
        var avoid: Set<WorkerID> = []
        /// Dependencies not yet committed; the task is ready when this is 0.
        var unmetDependencies = 0
        /// It runs on conditioning built from its dependencies' committed outputs.
        var needsConditioning = false
        /// The shell holds its conditioning, built (``SchedulerEvent/conditioned(_:)``);
        /// cleared when a lease takes it: back in the queue, the task waits for the shell to
        /// say so again (at once when it kept what the lease took).
        var conditioned = false
        /// Its result is committed only once workers of two principals agree on it.
        var verify = false
        /// Results so far of a verified task: who sent which digest.
        var votes: [Vote] = []
    }

    /// One worker's result of a verified task.
    struct Vote: Sendable, Equatable {
        var worker: WorkerID
        var principal: WorkerID
        var digest: String
        /// The voter's device (`cpu`, `cuda NVIDIA H200`; empty without a model backend).
        var device: String
    }

    struct Job: Sendable {
        var state: JobState
        var remaining: Int
        var priority: Int
        /// Who submitted it: ``SchedulerTimings/submitterTaskCap`` counts leases by owner.
        var owner = ""
        /// Sampler cost (values × steps) of the leases given to this job: among ready jobs of
        /// one priority, the least served goes first. A job joining (or resuming into) a running
        /// priority starts level with the least served there, so it neither starves the others
        /// nor is starved by their past.
        var served = 0
        /// True when paused because the disk is full: resumed when space returns.
        var pausedForSpace = false
        var failuresByWorker: [WorkerID: Int] = [:]
        var blocklist: Set<WorkerID> = []
        /// Lease-to-result times of the job's latest tasks per denoising step they ran: a
        /// straggler is a lease past a multiple of its steps' worth, and the stall bound of a
        /// lease is a multiple of one step.
        var recentStepSeconds: [Double] = []
        /// Learnt from out-of-memory failures, for sampling and for decode tasks apart: tasks of
        /// at least `cost` need more than `megabytes` (the most a worker had that ran out).
        var memoryFloors: [MemoryKind: (cost: Int, megabytes: UInt64)] = [:]
        var total = 0
        /// Tasks of this job in `tasks` (uncommitted ones; a task leaves when committed).
        var resident = 0
        /// Every uncommitted task up to this position of the job's page order is resident.
        var loadedThrough: Int64 = .min
        /// No uncommitted task of the job waits in the store.
        var allLoaded = true
    }

    public let timings: SchedulerTimings
    var workers: WorkerTable
    /// Resident tasks: a window of each job's uncommitted tasks (``SchedulerTimings/residentTasks``).
    var tasks: [Int64: Task] = [:]
    var jobs: [Int64: Job] = [:]
    /// Tasks that wait for each task (the inverse of dependencies).
    var dependents: [Int64: [Int64]] = [:]
    /// Ready task ids (pending, job running, dependencies met, conditioning built when it
    /// needs some), sorted by ``DispatchOrder``.
    var pending: [Int64] = []
    var pendingSet: Set<Int64> = []
    /// Tasks ready but for their conditioning, sorted by ``DispatchOrder``: the shell builds
    /// them (``awaitingConditioning(perJob:)``) and says so with ``SchedulerEvent/conditioned(_:)``.
    var awaiting: [Int64] = []
    var awaitingSet: Set<Int64> = []
    /// Ready tasks by what they need: dispatch looks only at workers offering one of these.
    var pendingOffers: [Offer: Int] = [:]
    /// When expiry, heartbeats and backups last ran.
    var lastPeriodicWork = -Double.infinity
    /// How often at most they run.
    static let periodSeconds = 0.02
    /// Queued (prefetch) leases that may go out now, and when that was last topped up
    /// (``Scheduler/queuedLeasesPerMillisecond``).
    var queuedAllowance = Double(Scheduler.queuedLeasesPerMillisecond)
    var queuedAllowanceAt = -Double.infinity
    /// When the idle workers were last looked at for silence and due heartbeats, and whether
    /// the farm had work then (``idleScanDue(now:)``).
    var lastIdleScan = -Double.infinity
    var idleScanHadWork = false
    /// When every resident task was last looked at for an expired lease.
    var lastLeaseScan = -Double.infinity
    /// How often at most that is done: leases run for many seconds, and the scan copies
    /// thousands of tasks, too much for every period.
    static let leaseScanSeconds = 1.0
    /// Principals whose results lost a vote: never given work again.
    var quarantined: Set<WorkerID> = []

    public init(timings: SchedulerTimings = SchedulerTimings()) {
        self.timings = timings
        workers = WorkerTable(prefetch: timings.prefetch)
    }

    // MARK: Queries

    /// Workers currently alive.
    public var workerCount: Int { workers.count }
    /// Leases the live workers take at once: each one's running slots and its prefetch queue.
    public var leaseCapacity: Int { workers.all.values.reduce(0) { $0 + Int($1.hello.slots) + max(0, timings.prefetch) } }
    /// Live workers and how many leases each holds.
    public var workerLoads: [WorkerID: Int] { workers.all.mapValues { $0.leases.count } }

    /// Every live worker, by id.
    var liveWorkers: [WorkerID: Worker] { workers.all }

    /// (done, total) task counts of a job known to the scheduler.
    public func progress(job: Int64) -> (done: Int, total: Int)? {
        jobs[job].map { ($0.total - $0.remaining, $0.total) }
    }

    /// Why a running job's ready tasks are not being run, when no live worker can run them.
    public func waitingReason(job: Int64) -> String? {
        guard jobs[job]?.state == .running, let id = pending.first(where: { tasks[$0]?.job == job }), let task = tasks[id] else { return nil }
        let work = task.work
        if !task.votes.isEmpty, !workers.all.values.contains(where: { $0.offers(work) && mayVote($0, on: task) }) {
            let device = work.backend == .diffusers ? " on device '\(task.votes[0].device)'" : ""
            return "waiting: task \(id)'s result awaits verification by a worker of another key (or name)\(device); connect one, or run the coordinator with --verify-fraction 0"
        }
        let capable = workers.all.values.filter { $0.offers(work) }
        if !capable.isEmpty, !capable.contains(where: { hasMemory($0, for: task) }) {
            let most = capable.map(\.hello.memoryMegabytes).max() ?? 0
            return "waiting: task \(id) needs more than the \(most) MB the largest live worker for it declares (about \(work.estimatedMegabytes) MB by its size); connect a bigger one"
        }
        guard capable.isEmpty else { return nil }
        let needs = work.model.map { "the \(work.backend.rawValue) backend with model \($0.path)" } ?? "the \(work.backend.rawValue) backend"
        return "waiting: no live worker can run it (it needs \(needs); \(workers.count) worker(s) connected)"
    }

    /// When a live worker was last heard from; nil for one the scheduler does not know.
    public func lastSeen(_ id: WorkerID) -> Double? { workers[id]?.lastSeen }

    /// Whether worker `id` is connected and has missed no more than two of its heartbeats.
    public func isHeard(_ id: WorkerID, now: Double) -> Bool {
        guard let worker = workers[id] else { return false }
        return now - worker.lastSeen <= 2 * heartbeatSeconds(of: worker)
    }

    /// The job and plan unit of `lease` when `id` holds it now (a result for it will be taken).
    public func leaseHeld(by id: WorkerID, _ lease: LeaseRef) -> (job: Int64, unit: Int)? {
        guard let task = tasks[lease.task], task.phase == .leased, task.holders[id]?.attempt == lease.attempt,
            let state = jobs[task.job]?.state, state != .cancelled, state != .failed
        else { return nil }
        return (task.job, task.chunk)
    }

    /// Whether `task`'s result is verified by a vote (its digest is needed).
    public func isVerified(task: Int64) -> Bool { tasks[task]?.verify ?? false }

    /// Whether any ready task waits for its conditioning to be built.
    public var hasTasksAwaitingConditioning: Bool { !awaiting.isEmpty }

    /// Tasks held in memory, over all jobs.
    public var residentTaskCount: Int { tasks.count }

    /// The state the scheduler holds for a job, if it is loaded.
    public func state(job: Int64) -> JobState? { jobs[job]?.state }

    /// Workers blocklisted for a job.
    public func blocklist(job: Int64) -> Set<WorkerID> { jobs[job]?.blocklist ?? [] }

    /// Whether a job is paused because the disk is full.
    public var hasJobsPausedForSpace: Bool { jobs.values.contains { $0.pausedForSpace } }

    // MARK: Jobs

    /// Loads a job: its first page of uncommitted tasks in page order (through `through`, with
    /// `allLoaded` when no more wait in the store) plus any task leased when the coordinator
    /// stopped, which stays leased to its holder (it may still deliver) until the lease
    /// expires. Committed tasks in `stored` are skipped. Jobs of higher `priority` are
    /// dispatched first. Without `total`, `remaining` and `through`, `stored` is the whole job.
    public mutating func addJob(
        _ job: Int64, priority: Int = 0, owner: String = "", state: JobState = .running, pausedForSpace: Bool = false, tasks stored: [StoredTask],
        total: Int? = nil, remaining: Int? = nil, through: Int64? = nil, allLoaded: Bool = true, now: Double
    ) {
        var entry = Job(
            state: state, remaining: remaining ?? stored.filter { !$0.done }.count, priority: priority,
            pausedForSpace: pausedForSpace && state == .paused)
        entry.owner = owner
        entry.served = leastServed(priority: priority)
        entry.total = total ?? stored.count
        entry.allLoaded = allLoaded
        jobs[job] = entry
        insert(stored, job: job, now: now)
        jobs[job]?.loadedThrough = through ?? stored.map(\.position).max() ?? .min
        rebuildPending()
        // A job's start fills every queue at once (measured apart, as the job's start); the
        // queued leases after it are metered (decision 0043).
        queuedAllowance = max(queuedAllowance, Double(leaseCapacity))
    }

    /// Tasks paged in at a time: a quarter of the window, at most 256, so that reading a page
    /// costs the coordinator's thread a few milliseconds however big the window is.
    var pageTasks: Int { max(1, min(256, timings.residentTasks / 4)) }

    /// The pages of tasks the scheduler wants from the store: for each running job with
    /// tasks still in the store whose resident tasks fell a page (``pageTasks``) below the
    /// window, a page.
    public func wantedPages() -> [TaskPageRequest] {
        // Asked on every turn of the loop: a scan, with no copy of the jobs.
        var wanted: [TaskPageRequest] = []
        for (id, job) in jobs where !job.allLoaded && job.state == .running && job.resident <= timings.residentTasks - pageTasks {
            wanted.append(TaskPageRequest(job: id, after: job.loadedThrough, count: pageTasks))
        }
        return wanted.sorted { $0.job < $1.job }
    }

    /// Adds a page asked for with ``wantedPages()``: the job's uncommitted tasks in page order
    /// through position `through`, with `allLoaded` when none is left in the store; hands out what it made ready.
    public mutating func addTasks(_ page: [StoredTask], job: Int64, through: Int64, allLoaded: Bool, now: Double) -> [SchedulerDirective] {
        guard let entry = jobs[job] else { return [] }
        for id in insert(page, job: job, now: now) { insertPending(id) }
        jobs[job]?.loadedThrough = max(entry.loadedThrough, through)
        jobs[job]?.allLoaded = allLoaded
        return dispatch(now: now, backups: false)
    }

    /// Makes `stored`'s uncommitted tasks resident (those not already); returns their ids. A
    /// dependency is unmet while it is resident: the uncommitted ones always are, since they
    /// come before their dependents in page order (and in id order, within a page).
    @discardableResult
    mutating func insert(_ stored: [StoredTask], job: Int64, now: Double) -> [Int64] {
        var added: [Int64] = []
        for entry in stored.sorted(by: { $0.id < $1.id }) where !entry.done && tasks[entry.id] == nil {
            let order = DispatchOrder(priority: jobs[job]?.priority ?? 0, job: job, position: entry.position)
            var task = Task(
                id: entry.id, job: job, chunk: entry.chunk, work: entry.work, stage: entry.stage, runSteps: PlanCost.runSteps(entry.work),
                cost: entry.work.resultCount * entry.work.steps, order: order, phase: .pending, attempt: entry.attempt)
            task.verify = Self.isVerified(entry.id, fraction: timings.verifyFraction)
            task.needsConditioning = !entry.dependencies.isEmpty
            for dependency in entry.dependencies where tasks[dependency] != nil {
                task.unmetDependencies += 1
                dependents[dependency, default: []].append(entry.id)
            }
            if let holder = entry.leasedTo {
                task.phase = .leased
                task.holders[holder] = Holding(attempt: entry.attempt, since: now)
                task.leaseExpiresAt = now + timings.leaseSeconds
                workers[holder]?.leases.insert(LeaseRef(task: entry.id, attempt: entry.attempt))
            }
            tasks[entry.id] = task
            jobs[job]?.resident += 1
            added.append(entry.id)
        }
        return added
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

    /// Handles one event, then hands out what is ready (with the periodic work on a `.tick`).
    public mutating func handle(_ event: SchedulerEvent, now: Double) -> [SchedulerDirective] {
        var out = apply(event, now: now)
        // Expiry, heartbeats and straggler backups are periodic work: done on ticks (every loop
        // of the shell, at least every 100 ms), at most every `periodSeconds`, not on every message.
        var periodic = false
        if case .tick = event, now - lastPeriodicWork >= Self.periodSeconds || now < lastPeriodicWork {
            periodic = true
            lastPeriodicWork = now
            let idleToo = idleScanDue(now: now)
            out += expire(now: now, idleToo: idleToo)
            out += heartbeats(now: now, idleToo: idleToo)
        }
        out += dispatch(now: now, backups: periodic)
        return out
    }

    /// Handles events that came together (a group commit's outcomes) in order, then hands out
    /// what they freed in one pass: a dispatch pass per event cost more than the event itself
    /// when a group of commits freed a wave of tasks (decision 0043). No periodic work: a
    /// `.tick` here only dispatches.
    public mutating func handle(_ events: [SchedulerEvent], now: Double) -> [SchedulerDirective] {
        var out: [SchedulerDirective] = []
        for event in events { out += apply(event, now: now) }
        return out + dispatch(now: now, backups: false)
    }

    /// What `event` changes, before any dispatch.
    private mutating func apply(_ event: SchedulerEvent, now: Double) -> [SchedulerDirective] {
        var out: [SchedulerDirective] = []
        switch event {
        case .workerReady(let id, let hello):
            out += workerReady(id, hello, now: now)
        case .heartbeat(let id, let progress):
            if workers[id] == nil {
                out.append(.send(id, .disconnect(reason: "unknown worker: send READY")))
            } else {
                renew(id, now: now)
                advance(id, progress, now: now)
            }
        case .resultArrived(let id, let lease, let digest):
            renew(id, now: now)
            out += acceptResult(from: id, lease: lease, digest: digest, now: now)
        case .committed(let lease):
            out += committed(lease)
        case .commitFailed(let lease, let reason, let diskFull):
            out += commitFailed(lease, reason: reason, diskFull: diskFull)
        case .dispatchFailed(let lease, let reason, let diskFull):
            out += dispatchFailed(lease, reason: reason, diskFull: diskFull)
        case .taskFailed(let id, let lease, let reason, let outOfMemory):
            renew(id, now: now)
            out += taskFailed(from: id, lease: lease, reason: reason, outOfMemory: outOfMemory, now: now)
        case .workerLeft(let id, let reason):
            out += dropWorker(id, reason: "worker \(id) left: \(reason)", leaseReason: "worker \(id) left")
        case .control(let job, let action):
            out += control(job, action)
        case .spaceAvailable:
            for (id, job) in jobs.sorted(by: { $0.key < $1.key }) where job.pausedForSpace {
                out += resume(id, reason: "disk space is back")
            }
        case .encodeFinished(let job, let checksums):
            out += encodeFinished(job, checksums)
        case .encodeFailed(let job, let reason, let diskFull):
            out += encodeFailed(job, reason: reason, diskFull: diskFull)
        case .conditioned(let built):
            for task in built { conditioned(task) }
        case .tick:
            break
        }
        return out
    }

    private mutating func workerReady(_ id: WorkerID, _ hello: WorkerHello, now: Double) -> [SchedulerDirective] {
        var out: [SchedulerDirective] = []
        if quarantined.contains(Self.principal(of: id)) {
            return [.send(id, .disconnect(reason: "quarantined: a result of \(Self.principal(of: id)) lost a verification vote")),
                .ignored("READY from quarantined \(id)")]
        }
        if workers[id] == nil && workers.count >= timings.maxWorkers {
            // Full: of the workers that have missed two of their heartbeats, the longest-silent makes room.
            guard
                let (silent, entry) = workers.all.filter({ now - $0.value.lastSeen > 2 * heartbeatSeconds(of: $0.value) })
                    .min(by: { ($0.value.lastSeen, $0.key) < ($1.value.lastSeen, $1.key) })
            else {
                return [
                    .send(id, .disconnect(reason: "the coordinator has its limit of \(timings.maxWorkers) workers")),
                    .ignored("READY from \(id): \(timings.maxWorkers) workers connected, none silent"),
                ]
            }
            out += dropWorker(silent, reason: "worker \(silent) evicted (silent for \(Int(now - entry.lastSeen)) s) to make room for \(id)")
        }
        var worker = workers[id] ?? Worker(hello: hello, principal: Self.principal(of: id), lastSeen: now, advancedAt: now, lastHeartbeatSent: now)
        worker.hello = hello
        // Re-adopt the leases this worker held before a reconnect or a coordinator restart, if
        // it says it still holds them; any other would be renewed by its heartbeats forever.
        let held = Set(hello.holding)
        var lost: [Int64] = []
        for task in tasks.values where task.phase == .leased {
            guard let holding = task.holders[id] else { continue }
            let lease = LeaseRef(task: task.id, attempt: holding.attempt)
            if held.contains(lease) { worker.leases.insert(lease) } else { lost.append(task.id) }
        }
        let joined = workers[id] == nil
        workers[id] = worker
        renew(id, now: now)
        if joined { out.append(.log("worker \(id) joined (\(hello.backends.joined(separator: ",")), \(hello.slots) slot(s))")) }
        for task in lost.sorted() { out += release(task, from: id, reason: "worker \(id) does not hold it") }
        // At once, so a worker that leaves when idle knows from its first second whether the farm has work.
        let outstanding = outstandingTasks
        workers[id]?.lastHeartbeatSent = now
        workers[id]?.toldFarmHasWork = outstanding > 0
        out.append(.send(id, .heartbeat(outstanding: outstanding)))
        return out
    }

    /// The principal of a worker id: the CURVE key's name before `/`, or the whole id.
    static func principal(of id: WorkerID) -> WorkerID {
        id.split(separator: "/", maxSplits: 1).first.map(String.init) ?? id
    }

    /// Records the steps a worker reports for leases it holds; a step past the last one
    /// reported (and within the task) is progress. Reports for other leases are ignored.
    mutating func advance(_ id: WorkerID, _ progress: [TaskProgress], now: Double) {
        for entry in progress {
            guard var task = tasks[entry.lease.task], task.phase == .leased, var holding = task.holders[id],
                holding.attempt == entry.lease.attempt, entry.step > holding.step, entry.step <= UInt32(clamping: task.work.steps)
            else { continue }
            holding.step = entry.step
            task.holders[id] = holding
            tasks[task.id] = task
            workers[id]?.advancedAt = now
        }
    }

    /// Any message from a known worker proves it alive and renews its leases.
    mutating func renew(_ id: WorkerID, now: Double) {
        guard let worker = workers[id] else { return }
        for lease in worker.leases { tasks[lease.task]?.leaseExpiresAt = now + timings.leaseSeconds }
        workers.heard(id, at: now)
    }
}
