import ReelCore
import ReelWire

/// Liveness, expiry and the ready queue.
extension Scheduler {
    /// Whether this period's pass looks at the idle workers too, not only the busy ones: at
    /// most every heartbeat, and at once when the farm gets work or runs out of it (an idle
    /// worker is told then). An idle worker's bounds are ``Liveness/idleFactor`` heartbeats and
    /// timeouts long, so a look a heartbeat apart is soon enough, while looking at hundreds of
    /// them 50 times a second was most of an idle farm's cost to the coordinator (decision 0052).
    mutating func idleScanDue(now: Double) -> Bool {
        let hasWork = outstandingTasks > 0
        guard now - lastIdleScan >= timings.heartbeatSeconds || now < lastIdleScan || hasWork != idleScanHadWork else { return false }
        lastIdleScan = now
        idleScanHadWork = hasWork
        return true
    }

    /// The workers a periodic pass looks at: the busy ones, and with `idleToo` the idle ones.
    func workersToCheck(idleToo: Bool) -> [WorkerID] {
        idleToo ? Array(workers.all.keys) : Array(workers.busy)
    }

    /// Drops silent workers (the idle ones only with `idleToo`) and takes back the leases of
    /// stalled ones, every period; takes back expired leases at most every ``leaseScanSeconds``.
    mutating func expire(now: Double, idleToo: Bool) -> [SchedulerDirective] {
        var out: [SchedulerDirective] = []
        // (Found first, then sorted: this runs up to 50 times a second.)
        var silent: [WorkerID] = []
        for id in workersToCheck(idleToo: idleToo) {
            if let worker = workers[id], isSilent(id, worker, now: now) { silent.append(id) }
        }
        for id in silent.sorted() {
            guard let worker = workers[id] else { continue }
            out += dropWorker(id, reason: String(format: "worker %@ silent for %.1f s: dropped", id, now - worker.lastSeen), lost: true)
        }
        var stepMedians: [Int64: Double] = [:]
        for job in jobs.keys { stepMedians[job] = medianStepSeconds(job: job) }
        // The stalled ones are found first, then handled in id order (no sort of every busy worker).
        var stalled: [(id: WorkerID, bound: Double)] = []
        for id in workers.busy {
            guard let worker = workers[id] else { continue }
            let bound = stallBound(worker, stepMedians: stepMedians)
            if now - worker.advancedAt > bound { stalled.append((id, bound)) }
        }
        for (id, bound) in stalled.sorted(by: { $0.id < $1.id }) {
            guard let worker = workers[id] else { continue }
            workers[id]?.advancedAt = now
            let why = String(format: "worker %@ made no progress for %.1f s (bound %.1f s)", id, now - worker.advancedAt, bound)
            for lease in worker.leases.sorted(by: { $0.task < $1.task }) { out += release(lease.task, from: id, reason: why, lost: true) }
        }
        guard now - lastLeaseScan >= Self.leaseScanSeconds || now < lastLeaseScan else { return out }
        lastLeaseScan = now
        var expired: [Int64] = []
        for (id, task) in tasks where task.phase == .leased && task.leaseExpiresAt < now { expired.append(id) }
        for id in expired.sorted() {
            for holder in tasks[id]!.holders.keys.sorted() {
                out += release(id, from: holder, reason: "lease of \(holder) expired", lost: true)
            }
        }
        return out
    }

    /// Whether worker `id` has been silent past its bound: the worker timeout while it holds
    /// leases (counted from its first lease when it was quiet before it, as an idle worker
    /// is), that times ``Liveness/idleFactor`` while it holds none (it heartbeats that much
    /// less often).
    func isSilent(_ id: WorkerID, _ worker: Worker, now: Double) -> Bool {
        if worker.leases.isEmpty { return now - worker.lastSeen > timings.workerTimeoutSeconds * Liveness.idleFactor }
        // Heard within the timeout: not silent, whenever its leases began (this runs per tick).
        guard now - worker.lastSeen > timings.workerTimeoutSeconds else { return false }
        let leased = worker.leases.compactMap { tasks[$0.task]?.holders[id]?.since }.min() ?? worker.lastSeen
        return now - max(worker.lastSeen, leased) > timings.workerTimeoutSeconds
    }

    /// How often `worker` and the coordinator heartbeat each other: ``SchedulerTimings/heartbeatSeconds``
    /// while it holds leases, that times ``Liveness/idleFactor`` while it holds none.
    func heartbeatSeconds(of worker: Worker) -> Double {
        timings.heartbeatSeconds * (worker.leases.isEmpty ? Liveness.idleFactor : 1)
    }

    /// How long `worker` may go without advancing any lease it holds: the stall floor, or
    /// `stallFactor` times the slowest median step time (`stepMedians`, by job) among its leases' jobs.
    func stallBound(_ worker: Worker, stepMedians: [Int64: Double]) -> Double {
        let step = worker.leases.compactMap { tasks[$0.task].flatMap { stepMedians[$0.job] } }.max() ?? 0
        return max(timings.stallSeconds, timings.stallFactor * step)
    }

    /// Forgets a worker and takes its leases away; `lost`: they count as lost leases.
    mutating func dropWorker(_ id: WorkerID, reason: String, leaseReason: String? = nil, lost: Bool = false) -> [SchedulerDirective] {
        guard let worker = workers.removeValue(forKey: id) else { return [] }
        var out: [SchedulerDirective] = [.log(reason)]
        for lease in worker.leases.sorted(by: { $0.task < $1.task }) {
            out += release(lease.task, from: id, reason: leaseReason ?? "worker \(id) went silent", lost: lost)
        }
        return out
    }

    /// Takes `worker`'s lease of a task away; when no holder is left, the task is pending again.
    /// A lost lease (`lost`: the holder went silent or stalled) is not the task's fault at
    /// first, but past ``SchedulerTimings/lostLeasesForgiven`` each counts as a failure, so a
    /// chunk that kills or hangs every worker fails its job with a reason instead of cycling.
    mutating func release(_ id: Int64, from worker: WorkerID, reason: String, lost: Bool = false) -> [SchedulerDirective] {
        guard var task = tasks[id], task.phase == .leased, let holding = task.holders.removeValue(forKey: worker) else { return [] }
        workers[worker]?.leases.remove(LeaseRef(task: id, attempt: holding.attempt))
        if lost {
            task.lostLeases += 1
            if task.lostLeases > timings.lostLeasesForgiven { task.failures += 1 }
        }
        tasks[id] = task
        guard task.holders.isEmpty else { return [.log("task \(id): \(reason); its backup lease goes on")] }
        if task.failures >= timings.maxFailures {
            let job = task.job
            return requeue(id, reason: reason)
                + failJob(job, reason: "chunk \(task.chunk) lost \(task.lostLeases) leases (its holders went silent or stalled); last: \(reason)")
        }
        return requeue(id, reason: reason)
    }

    mutating func requeue(_ id: Int64, reason: String) -> [SchedulerDirective] {
        guard var task = tasks[id], task.phase == .leased || task.phase == .committing else { return [] }
        for (holder, holding) in task.holders { workers[holder]?.leases.remove(LeaseRef(task: id, attempt: holding.attempt)) }
        task.phase = .pending
        task.holders = [:]
        task.winner = nil
        tasks[id] = task
        insertPending(id)
        return [.requeue(task: id, reason: reason)]
    }

    /// Whether `task` may run now: pending, its dependencies committed, its job running.
    func isReady(_ task: Task) -> Bool {
        task.phase == .pending && task.unmetDependencies == 0 && jobs[task.job]?.state == .running
    }

    /// Whether `task` may be leased now: ready, with its conditioning built when it needs some
    /// (so a free worker is never handed a task that must wait for the pool while another is
    /// ready to go; decision 0033).
    func isDispatchable(_ task: Task) -> Bool {
        isReady(task) && (!task.needsConditioning || task.conditioned)
    }

    /// Puts a ready task into the queue at its place in dispatch order, or among those
    /// awaiting their conditioning.
    mutating func insertPending(_ id: Int64) {
        guard let task = tasks[id], isReady(task), !pendingSet.contains(id), !awaitingSet.contains(id) else { return }
        guard isDispatchable(task) else {
            awaiting.insert(id, at: position(of: task.order, in: awaiting))
            awaitingSet.insert(id)
            return
        }
        pending.insert(id, at: position(of: task.order, in: pending))
        pendingSet.insert(id)
        pendingOffers[Offer(task.work), default: 0] += 1
    }

    /// Where `order` goes in `list` (task ids sorted by ``DispatchOrder``): its lower bound.
    func position(of order: DispatchOrder, in list: [Int64]) -> Int {
        var low = 0, high = list.count
        while low < high {
            let middle = (low + high) / 2
            if tasks[list[middle]]!.order < order { low = middle + 1 } else { high = middle }
        }
        return low
    }

    mutating func removePending(at position: Int) -> Int64 {
        let id = pending.remove(at: position)
        pendingSet.remove(id)
        if let task = tasks[id] {
            let offer = Offer(task.work)
            pendingOffers[offer, default: 1] -= 1
            if pendingOffers[offer] == 0 { pendingOffers[offer] = nil }
        }
        return id
    }

    mutating func rebuildPending() {
        let ready = tasks.values.filter(isReady).sorted { $0.order < $1.order }
        pending = ready.filter(isDispatchable).map(\.id)
        pendingSet = Set(pending)
        pendingOffers = pending.reduce(into: [:]) { $0[Offer(tasks[$1]!.work), default: 0] += 1 }
        awaiting = ready.filter { !isDispatchable($0) }.map(\.id)
        awaitingSet = Set(awaiting)
    }

    /// The shell holds `id`'s conditioning: the task joins the ready queue.
    mutating func conditioned(_ id: Int64) {
        guard let task = tasks[id] else { return }
        tasks[id]?.conditioned = true
        if awaitingSet.remove(id) != nil {
            let index = position(of: task.order, in: awaiting)
            if index < awaiting.count && awaiting[index] == id { awaiting.remove(at: index) } else { awaiting.removeAll { $0 == id } }
        }
        insertPending(id)
    }

    /// The tasks whose conditioning the shell should build next: each running job's first
    /// `perJob` awaiting it (none of the jobs in `skipping`), in dispatch order, jobs of one
    /// priority taking turns (so one job's backlog does not hold back another's), highest
    /// priority first.
    public func awaitingConditioning(perJob: Int, skipping: Set<Int64> = []) -> [(task: Int64, job: Int64, unit: Int)] {
        guard !awaiting.isEmpty else { return [] }
        var out: [(task: Int64, job: Int64, unit: Int)] = []
        for level in readyJobsByPriority() {
            let blocks = level.jobs.filter { !skipping.contains($0) }.map {
                block(of: awaiting, priority: level.priority, job: $0).prefix(max(0, perJob))
            }
            for turn in 0..<(blocks.map(\.count).max() ?? 0) {
                for block in blocks where turn < block.count {
                    let task = tasks[awaiting[block.lowerBound + turn]]!
                    out.append((task.id, task.job, task.chunk))
                }
            }
        }
        return out
    }

    /// Heartbeats the workers that are due one (the idle ones only with `idleToo`), or whose
    /// last one said otherwise of whether the farm has work. An idle worker, looked at only every
    /// heartbeat, is sent its heartbeat when it would fall due before the next look: so it is
    /// heartbeated every `idleFactor - 1` to `idleFactor` heartbeats, never later.
    mutating func heartbeats(now: Double, idleToo: Bool) -> [SchedulerDirective] {
        var out: [SchedulerDirective] = []
        let outstanding = outstandingTasks, hasWork = outstanding > 0
        var due: [WorkerID] = []
        for id in workersToCheck(idleToo: idleToo) {
            guard let worker = workers[id] else { continue }
            let early = worker.leases.isEmpty ? timings.heartbeatSeconds : 0
            let dueAt = worker.lastHeartbeatSent + heartbeatSeconds(of: worker) - early
            if now >= dueAt || worker.toldFarmHasWork != hasWork { due.append(id) }
        }
        guard !due.isEmpty else { return out }
        due.sort()
        for id in due {
            workers.heartbeatSent(id, at: now, farmHasWork: hasWork)
            out.append(.send(id, .heartbeat(outstanding: outstanding)))
        }
        return out
    }
}
