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
        guard let floor = jobs[task.job]?.memoryFloors[MemoryKind(task.work)], task.cost >= floor.cost else { return true }
        return worker.hello.memoryMegabytes > floor.megabytes
    }

    /// Fills every worker's running slots with ready tasks (``leaseNext(to:now:levels:owned:)``);
    /// then, while more tasks are ready than there are workers, queues up to `prefetch` more at
    /// each (one round at a time, so queues grow evenly); then takes back queued tasks of a lower
    /// priority than one that is ready (``preemptQueued(now:levels:owned:)``); then, when `backups`,
    /// gives each idle worker a backup of a queued task or a straggler.
    ///
    /// Only workers with room for a lease that offer what a ready task needs are looked at
    /// (``WorkerTable``), so idle workers that cannot run the ready tasks cost nothing.
    mutating func dispatch(now: Double, backups: Bool = true) -> [SchedulerDirective] {
        // With no ready task, only backups could be handed out (every heartbeat lands here).
        guard !workers.isEmpty, !pending.isEmpty || backups else { return [] }
        var out: [SchedulerDirective] = []
        var owned = timings.submitterTaskCap > 0 ? leasesByOwner() : [:]
        // Jobs' states and priorities do not change while leases are handed out: grouped once.
        let levels = readyJobsByPriority()
        // Only workers with a slot free are looked at: a few a turn, not the whole farm.
        for id in workers.withFreeSlot(forAnyOf: pendingOffers.keys) {
            while let worker = workers[id], worker.leases.count < Int(worker.hello.slots),
                let directive = leaseNext(to: id, now: now, levels: levels, owned: &owned)
            {
                out.append(directive)
            }
        }
        // (Tasks awaiting their conditioning are ready work too: it is not the tail.)
        let queueing = timings.prefetch > 0 && pending.count + awaiting.count > workers.count
        let ids = queueing ? workers.open(forAnyOf: pendingOffers.keys) : []
        if queueing { topUpQueuedAllowance(now: now) }
        for depth in 0..<max(0, timings.prefetch) {
            for id in ids where pending.count + awaiting.count > workers.count && queuedAllowance >= 1 {
                guard let worker = workers[id], worker.leases.count < Int(worker.hello.slots) + depth + 1 else { continue }
                if let directive = leaseNext(to: id, now: now, levels: levels, owned: &owned) {
                    out.append(directive)
                    queuedAllowance -= 1
                }
            }
        }
        out += preemptQueued(now: now, levels: levels, owned: &owned)
        // Backups go to idle workers only: with none (most of a render), none are looked for.
        guard backups && timings.stragglerFactor > 0 && !workers.busy.isEmpty && workers.busy.count < workers.count else { return out }
        // Each backup candidate goes to the first idle worker (in id order) that may run it.
        // The idle workers offering a task's needs are listed once per offer, not per candidate
        // (at a big farm's tail hundreds of candidates meet hundreds of idle workers).
        var idle: [Offer: [WorkerID]] = [:]
        var given = Set<WorkerID>()
        for (id, queued) in backupCandidates(now: now) {
            guard let task = tasks[id] else { continue }
            let offer = Offer(task.work)
            if idle[offer] == nil { idle[offer] = workers.open(forAnyOf: [offer]).filter { !workers.busy.contains($0) } }
            guard let index = idle[offer]!.firstIndex(where: { !given.contains($0) && canRun($0, task, now: now) }) else { continue }
            let worker = idle[offer]!.remove(at: index)
            given.insert(worker)
            out.append(lease(id, to: worker, now: now))
            if queued { out += revokeQueuedCopies(of: id, keeping: worker) }
        }
        return out
    }

    /// A task queued behind another worker's running one moves to the idle worker that takes
    /// it: the queued copy is revoked at once, so its worker does not start it (and spend a
    /// whole task time on a copy that loses) once its running task ends.
    private mutating func revokeQueuedCopies(of id: Int64, keeping worker: WorkerID) -> [SchedulerDirective] {
        var out: [SchedulerDirective] = []
        for (holder, holding) in (tasks[id]?.holders ?? [:]).sorted(by: { $0.key < $1.key }) where holder != worker {
            out += release(id, from: holder, reason: "moved from \(holder)'s queue to idle \(worker)")
            out.append(.send(holder, .revoke(LeaseRef(task: id, attempt: holding.attempt))))
        }
        return out
    }

    /// Queued (prefetch) leases handed out at most in a millisecond, and at once. A queued task
    /// waits behind its worker's running one, so it loses nothing by going out a few
    /// milliseconds later, but a wave of them sent together (a job's start, or the ready tasks
    /// coming to outnumber the workers) held up the leases of free slots behind it (decision 0043).
    static let queuedLeasesPerMillisecond = 16

    /// Adds what the time since the last top-up allows to ``queuedAllowance``, up to
    /// ``queuedLeasesPerMillisecond`` (a job's start may have left more: it is not cut).
    mutating func topUpQueuedAllowance(now: Double) {
        // The first top-up (from minus infinity) comes to the limit: min(limit, infinity).
        let elapsed = max(0, now - queuedAllowanceAt)
        let limit = Double(Self.queuedLeasesPerMillisecond)
        queuedAllowance = max(queuedAllowance, min(limit, queuedAllowance + elapsed * 1000 * limit))
        queuedAllowanceAt = now
    }

    /// Ready tasks a worker looks through for one it may run; past these it waits for the
    /// queue to move, so one worker's blocklists cannot make dispatch cost grow with the queue.
    static let scanLimit = 4096

    /// How far ahead of the least served job of its priority a job may be and still keep a
    /// worker that has its model loaded, in tasks of that job per live worker (at least 8): a
    /// cold model load is the dominant cost on a real farm, so workers switch models only
    /// when sharing needs it.
    static let warmSlackTasks = 8

    /// Leases `worker` the next ready task it may run: from the highest priority with one;
    /// among jobs of that priority, the least served one (``Job/served``), skipping jobs whose
    /// submitter holds ``SchedulerTimings/submitterTaskCap`` leases; a worker with a model
    /// loaded keeps to that model's job unless it is too far ahead of the others
    /// (``warmSlackTasks``). Within a job, tasks go in ``DispatchOrder``.
    /// `levels` is ``readyJobsByPriority()``.
    mutating func leaseNext(
        to worker: WorkerID, now: Double, levels: [(priority: Int, jobs: [Int64])], owned: inout [String: Int]
    ) -> SchedulerDirective? {
        guard !pending.isEmpty, let entry = workers[worker] else { return nil }
        var budget = Self.scanLimit
        for (priority, jobIDs) in levels {
            var candidates: [(job: Int64, position: Int)] = []
            for job in jobIDs {
                guard budget > 0, let record = jobs[job] else { break }
                if timings.submitterTaskCap > 0 && owned[record.owner, default: 0] >= timings.submitterTaskCap { continue }
                let block = pendingBlock(priority: priority, job: job)
                let scanned = block.prefix(budget)
                budget -= scanned.count
                if let position = scanned.firstIndex(where: { canRun(worker, tasks[pending[$0]]!, now: now) }) {
                    candidates.append((job, position))
                }
            }
            guard var chosen = candidates.min(by: { (jobs[$0.job]!.served, $0.job) < (jobs[$1.job]!.served, $1.job) }) else { continue }
            if let warm = entry.warmModel, tasks[pending[chosen.position]]!.work.model?.path != warm,
                let warmCandidate = candidates.first(where: { tasks[pending[$0.position]]!.work.model?.path == warm })
            {
                let cost = tasks[pending[warmCandidate.position]]!.cost
                let slack = cost * max(Self.warmSlackTasks, workers.count)
                if jobs[warmCandidate.job]!.served - jobs[chosen.job]!.served <= slack { chosen = warmCandidate }
            }
            if let owner = jobs[chosen.job]?.owner, timings.submitterTaskCap > 0 { owned[owner, default: 0] += 1 }
            return lease(removePending(at: chosen.position), to: worker, now: now)
        }
        return nil
    }

    /// Running jobs with ready tasks, grouped by priority (highest first), each group in id order.
    func readyJobsByPriority() -> [(priority: Int, jobs: [Int64])] {
        let running = jobs.filter { $0.value.state == .running }
        return Dictionary(grouping: running.keys, by: { running[$0]!.priority })
            .map { (priority: $0.key, jobs: $0.value.sorted()) }
            .sorted { $0.priority > $1.priority }
    }

    /// The positions in `list` (task ids sorted by ``DispatchOrder``) of a job's tasks at
    /// `priority` (contiguous: the order sorts by priority, then job).
    func block(of list: [Int64], priority: Int, job: Int64) -> Range<Int> {
        let start = position(of: .first(priority: priority, job: job), in: list)
        return start..<position(of: .first(priority: priority, job: job + 1), in: list)
    }

    /// The positions in `pending` of a job's ready tasks.
    func pendingBlock(priority: Int, job: Int64) -> Range<Int> { block(of: pending, priority: priority, job: job) }

    /// What the least served running job of `priority` (other than `excluding`) was served; 0 when none runs.
    func leastServed(priority: Int, excluding: Int64? = nil) -> Int {
        jobs.filter { $0.key != excluding && $0.value.state == .running && $0.value.priority == priority }.map(\.value.served).min() ?? 0
    }

    /// Leases held now (not yet answered), by the owner of their job.
    func leasesByOwner() -> [String: Int] {
        var owned: [String: Int] = [:]
        for id in workers.busy {
            for lease in workers[id]?.leases ?? [] {
                if let job = tasks[lease.task]?.job, let owner = jobs[job]?.owner { owned[owner, default: 0] += 1 }
            }
        }
        return owned
    }

    /// A higher-priority job submitted mid-render gets the next free workers: a task queued
    /// (prefetched) at a worker behind its running one, of a lower priority than a ready task
    /// that worker may run, is taken back (REVOKE) and the ready one queued in its place, so
    /// it starts when the running one ends.
    mutating func preemptQueued(now: Double, levels: [(priority: Int, jobs: [Int64])], owned: inout [String: Int]) -> [SchedulerDirective] {
        guard let top = pending.first.flatMap({ tasks[$0]?.order.priority }),
            jobs.values.contains(where: { $0.state == .running && $0.priority < top })
        else { return [] }
        var out: [SchedulerDirective] = []
        for id in workers.busy.sorted() {
            guard let entry = workers[id], entry.leases.count > Int(entry.hello.slots) else { continue }
            // A worker's newest leases beyond its slots are the queued ones.
            let queued = entry.leases.compactMap { lease -> (since: Double, task: Task)? in
                guard let task = tasks[lease.task], task.phase == .leased, let since = task.holders[id]?.since else { return nil }
                return (since, task)
            }.sorted { ($0.since, $0.task.id) > ($1.since, $1.task.id) }.prefix(entry.leases.count - Int(entry.hello.slots))
            for (_, task) in queued where task.order.priority < top {
                let better = pending.prefix(Self.scanLimit).contains {
                    let ready = tasks[$0]!
                    return ready.order.priority > task.order.priority && canRun(id, ready, now: now)
                }
                guard better else { continue }
                out += release(task.id, from: id, reason: "preempted at \(id) by a job of priority \(top)")
                out.append(.send(id, .revoke(LeaseRef(task: task.id, attempt: task.holders[id]!.attempt))))
                if let owner = jobs[task.job]?.owner, timings.submitterTaskCap > 0 { owned[owner] = max(0, owned[owner, default: 0] - 1) }
                if let directive = leaseNext(to: id, now: now, levels: levels, owned: &owned) { out.append(directive) }
            }
        }
        return out
    }

    private mutating func lease(_ id: Int64, to worker: WorkerID, now: Double) -> SchedulerDirective {
        var task = tasks[id]!
        task.attempt += 1
        task.phase = .leased
        task.conditioned = false
        task.holders[worker] = Holding(attempt: task.attempt, since: now)
        task.leaseExpiresAt = now + timings.leaseSeconds
        tasks[id] = task
        let lease = LeaseRef(task: id, attempt: task.attempt)
        if workers[worker]?.leases.isEmpty == true { workers[worker]?.advancedAt = now }
        workers[worker]?.leases.insert(lease)
        if let model = task.work.model?.path { workers[worker]?.warmModel = model }
        jobs[task.job]?.served += task.cost
        let assignment = TaskAssignment(lease: lease, leaseMilliseconds: UInt32(clamping: Int(min(timings.leaseSeconds, 86400) * 1000)), work: task.work)
        return .dispatch(worker, assignment, job: task.job, unit: task.chunk, expiresAt: task.leaseExpiresAt)
    }

    /// Tasks an idle worker should also run when nothing is ready, best first: tasks queued
    /// (prefetched) behind another worker's running one, which an idle worker can start at
    /// once (`queued`: the queued copy is revoked as the idle worker takes it), oldest first;
    /// then leases that have run longer than `stragglerFactor` times what their job's median
    /// step time says their steps take, oldest first (both copies run; the first result wins).
    /// Per step, not per task: a rolling job's seams run a fifth of a chunk's steps, and a
    /// median of whole tasks made every chunk past it look like a straggler.
    func backupCandidates(now: Double) -> [(id: Int64, queued: Bool)] {
        var medians: [Int64: Double] = [:]
        for job in jobs.keys { medians[job] = medianStepSeconds(job: job) }
        var queued: [(since: Double, id: Int64)] = []
        var stragglers: [(since: Double, id: Int64)] = []
        for holder in workers.busy.sorted() {
            guard let entry = workers[holder] else { continue }
            let held = entry.leases.compactMap { lease -> (since: Double, id: Int64, job: Int64, steps: Int)? in
                guard let task = tasks[lease.task], task.phase == .leased, task.holders.count == 1,
                    let since = task.holders[holder]?.since
                else { return nil }
                return (since, task.id, task.job, task.runSteps)
            }.sorted { ($0.since, $0.id) > ($1.since, $1.id) }
            // A worker holding more leases than slots has its newest ones queued, not running.
            let queuedCount = max(0, entry.leases.count - Int(entry.hello.slots))
            queued += held.prefix(queuedCount).map { ($0.since, $0.id) }
            for task in held.dropFirst(queuedCount) {
                let expected = medians[task.job].map { $0 * Double(max(1, task.steps)) }
                if let expected, now - task.since > timings.stragglerFactor * expected {
                    stragglers.append((task.since, task.id))
                }
            }
        }
        let oldestFirst = { (a: (since: Double, id: Int64), b: (since: Double, id: Int64)) in (a.since, a.id) < (b.since, b.id) }
        return queued.sorted(by: oldestFirst).map { ($0.id, true) } + stragglers.sorted(by: oldestFirst).map { ($0.id, false) }
    }

    /// The median time per denoising step of a job's latest results.
    func medianStepSeconds(job: Int64) -> Double? {
        guard let steps = jobs[job]?.recentStepSeconds, !steps.isEmpty else { return nil }
        return steps.sorted()[steps.count / 2]
    }

    /// Records how long a lease took to deliver per step it ran (the latest 32 per job).
    mutating func recordDuration(job: Int64, _ seconds: Double, steps: Int) {
        guard var entry = jobs[job] else { return }
        entry.recentStepSeconds.append(seconds / Double(max(1, steps)))
        if entry.recentStepSeconds.count > 32 { entry.recentStepSeconds.removeFirst() }
        jobs[job] = entry
    }
}
