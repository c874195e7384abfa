import ReelCore
import ReelWire

/// Handing out leases: running slots first, then prefetch, then backups of stragglers.
extension Scheduler {
    /// Whether `worker` may take `task` now: its backend, not blocklisted for the job, past the
    /// retry back-off, and not a worker that failed it while another capable worker exists.
    func canRun(_ worker: WorkerID, _ task: Task, now: Double) -> Bool {
        guard let entry = workers[worker], entry.offers(task.work), hasMemory(entry, for: task),
            jobs[task.job]?.state == .running, task.notBefore <= now, jobs[task.job]?.blocklist.contains(entry.principal) == false,
            task.holders[worker] == nil, !quarantined.contains(entry.principal), mayVote(entry, on: task)
        else { return false }
        if task.avoid.contains(worker) {
            let blocklist = jobs[task.job]?.blocklist ?? []
            return !workers.anyOffers(Offer(task.work)) { other in
                guard other != worker, !task.avoid.contains(other), let entry = workers[other] else { return true }
                return blocklist.contains(entry.principal) || !hasMemory(entry, for: task)
            }
        }
        return true
    }

    /// Whether `worker` declares the memory `task` needs: at least its estimate, and more than
    /// out-of-memory failures showed it needs.
    func hasMemory(_ worker: Worker, for task: Task) -> Bool {
        guard UInt64(task.work.estimatedMegabytes) <= worker.hello.memoryMegabytes else { return false }
        guard let floor = jobs[task.job]?.memoryFloors[MemoryKind(task.work)], task.order.cost >= floor.cost else { return true }
        return worker.hello.memoryMegabytes > floor.megabytes
    }

    /// Fills every worker's running slots with ready tasks in dispatch order; then, while more
    /// tasks are ready than there are workers, queues up to `prefetch` more at each (one round
    /// at a time, so queues grow evenly); then, when `backups`, gives each idle worker a backup
    /// of a queued task or a straggler.
    ///
    /// Only workers with room for a lease that offer what a ready task needs are looked at
    /// (``WorkerTable``), so idle workers that cannot run the ready tasks cost nothing.
    mutating func dispatch(now: Double, backups: Bool = true) -> [SchedulerDirective] {
        guard !workers.isEmpty else { return [] }
        var out: [SchedulerDirective] = []
        let ids = Set(pendingOffers.keys.flatMap { workers.open(for: $0) }).sorted()
        for id in ids {
            while let worker = workers[id], worker.leases.count < Int(worker.hello.slots), let directive = leaseNext(to: id, now: now) {
                out.append(directive)
            }
        }
        for depth in 0..<max(0, timings.prefetch) {
            for id in ids where pending.count > workers.count {
                guard let worker = workers[id], worker.leases.count < Int(worker.hello.slots) + depth + 1 else { continue }
                if let directive = leaseNext(to: id, now: now) { out.append(directive) }
            }
        }
        guard backups && timings.stragglerFactor > 0 && !workers.busy.isEmpty else { return out }
        // Each backup candidate goes to the first idle worker (in id order) that may run it.
        var given = Set<WorkerID>()
        for id in backupCandidates(now: now) {
            guard let task = tasks[id] else { continue }
            let idle = workers.open(for: Offer(task.work)).filter { !given.contains($0) && workers[$0]?.leases.isEmpty == true }
            guard let worker = idle.first(where: { canRun($0, task, now: now) }) else { continue }
            given.insert(worker)
            out.append(lease(id, to: worker, now: now))
        }
        return out
    }

    /// Ready tasks a worker looks through for one it may run; past these it waits for the
    /// queue to move, so one worker's blocklists cannot make dispatch cost grow with the queue.
    static let scanLimit = 4096

    /// Leases the first ready task `worker` may run; among tasks of the same priority, one of
    /// the model it already has loaded first (a cold model load is the dominant cost on a real farm).
    private mutating func leaseNext(to worker: WorkerID, now: Double) -> SchedulerDirective? {
        guard var position = pending.prefix(Self.scanLimit).firstIndex(where: { canRun(worker, tasks[$0]!, now: now) }) else { return nil }
        let first = tasks[pending[position]]!
        if let warm = workers[worker]?.warmModel, let model = first.work.model?.path, model != warm,
            let warmPosition = pending[position...].firstIndex(where: {
                let task = tasks[$0]!
                return task.order.priority == first.order.priority && task.work.model?.path == warm && canRun(worker, task, now: now)
            })
        {
            position = warmPosition
        }
        return lease(removePending(at: position), to: worker, now: now)
    }

    private mutating func lease(_ id: Int64, to worker: WorkerID, now: Double) -> SchedulerDirective {
        var task = tasks[id]!
        task.attempt += 1
        task.phase = .leased
        task.holders[worker] = Holding(attempt: task.attempt, since: now)
        task.leaseExpiresAt = now + timings.leaseSeconds
        tasks[id] = task
        let lease = LeaseRef(task: id, attempt: task.attempt)
        if workers[worker]?.leases.isEmpty == true { workers[worker]?.advancedAt = now }
        workers[worker]?.leases.insert(lease)
        if let model = task.work.model?.path { workers[worker]?.warmModel = model }
        let assignment = TaskAssignment(lease: lease, leaseMilliseconds: UInt32(clamping: Int(min(timings.leaseSeconds, 86400) * 1000)), work: task.work)
        return .dispatch(worker, assignment, job: task.job, unit: task.chunk, expiresAt: task.leaseExpiresAt)
    }

    /// Tasks an idle worker should also run when nothing is ready, best first: tasks queued
    /// (prefetched) behind another worker's running one, which an idle worker can start at
    /// once (the queued copy is revoked when the backup wins), oldest first; then leases that
    /// have run longer than `stragglerFactor` times their job's median task time, oldest first.
    func backupCandidates(now: Double) -> [Int64] {
        var medians: [Int64: Double] = [:]
        for job in jobs.keys { medians[job] = medianDuration(job: job) }
        var queued: [(since: Double, id: Int64)] = []
        var stragglers: [(since: Double, id: Int64)] = []
        for holder in workers.busy.sorted() {
            guard let entry = workers[holder] else { continue }
            let held = entry.leases.compactMap { lease -> (since: Double, id: Int64, job: Int64)? in
                guard let task = tasks[lease.task], task.phase == .leased, task.holders.count == 1,
                    let since = task.holders[holder]?.since
                else { return nil }
                return (since, task.id, task.job)
            }.sorted { ($0.since, $0.id) > ($1.since, $1.id) }
            // A worker holding more leases than slots has its newest ones queued, not running.
            let queuedCount = max(0, entry.leases.count - Int(entry.hello.slots))
            queued += held.prefix(queuedCount).map { ($0.since, $0.id) }
            for task in held.dropFirst(queuedCount) {
                if let median = medians[task.job], now - task.since > timings.stragglerFactor * median {
                    stragglers.append((task.since, task.id))
                }
            }
        }
        return (queued.sorted { ($0.since, $0.id) < ($1.since, $1.id) } + stragglers.sorted { ($0.since, $0.id) < ($1.since, $1.id) }).map(
            \.id)
    }

    func medianDuration(job: Int64) -> Double? {
        guard let durations = jobs[job]?.recentDurations, !durations.isEmpty else { return nil }
        return durations.sorted()[durations.count / 2]
    }

    /// The median time per denoising step of a job's latest results.
    func medianStepSeconds(job: Int64) -> Double? {
        guard let steps = jobs[job]?.recentStepSeconds, !steps.isEmpty else { return nil }
        return steps.sorted()[steps.count / 2]
    }

    /// Records how long a lease took to deliver, and per step of the task (the latest 32 per job).
    mutating func recordDuration(job: Int64, _ seconds: Double, steps: Int) {
        guard var entry = jobs[job] else { return }
        entry.recentDurations.append(seconds)
        entry.recentStepSeconds.append(seconds / Double(max(1, steps)))
        if entry.recentDurations.count > 32 { entry.recentDurations.removeFirst() }
        if entry.recentStepSeconds.count > 32 { entry.recentStepSeconds.removeFirst() }
        jobs[job] = entry
    }
}
