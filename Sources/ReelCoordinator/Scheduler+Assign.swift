import ReelCore
import ReelWire

/// Handing out leases: running slots first, then prefetch, then backups of stragglers.
extension Scheduler {
    /// Whether `worker` may take `task` now: its backend, not blocklisted for the job, past the
    /// retry back-off, and not a worker that failed it while another capable worker exists.
    func canRun(_ worker: WorkerID, _ task: Task, now: Double) -> Bool {
        guard let entry = workers[worker], entry.hello.backends.contains(task.work.backend.rawValue),
            jobs[task.job]?.state == .running, task.notBefore <= now, jobs[task.job]?.blocklist.contains(worker) == false,
            task.holders[worker] == nil
        else { return false }
        if task.avoid.contains(worker) {
            let blocklist = jobs[task.job]?.blocklist ?? []
            let alternatives = workers.filter {
                $0.key != worker && !task.avoid.contains($0.key) && !blocklist.contains($0.key)
                    && $0.value.hello.backends.contains(task.work.backend.rawValue)
            }
            return alternatives.isEmpty
        }
        return true
    }

    /// Fills every worker's running slots with ready tasks in dispatch order; then, while more
    /// tasks are ready than there are workers, queues up to `prefetch` more at each (one round
    /// at a time, so queues grow evenly); then gives each idle worker a backup of a straggler.
    mutating func dispatch(now: Double) -> [SchedulerDirective] {
        guard !workers.isEmpty else { return [] }
        var out: [SchedulerDirective] = []
        let ids = workers.keys.sorted()
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
        for id in ids where workers[id]?.leases.isEmpty == true {
            if let task = straggler(for: id, now: now) { out.append(lease(task, to: id, now: now, backup: true)) }
        }
        return out
    }

    /// Leases the first ready task `worker` may run.
    private mutating func leaseNext(to worker: WorkerID, now: Double) -> SchedulerDirective? {
        guard let position = pending.firstIndex(where: { canRun(worker, tasks[$0]!, now: now) }) else { return nil }
        return lease(removePending(at: position), to: worker, now: now, backup: false)
    }

    private mutating func lease(_ id: Int64, to worker: WorkerID, now: Double, backup: Bool) -> SchedulerDirective {
        var task = tasks[id]!
        task.attempt += 1
        task.phase = .leased
        task.holders[worker] = Holding(attempt: task.attempt, since: now)
        task.leaseExpiresAt = now + timings.leaseSeconds
        tasks[id] = task
        let lease = LeaseRef(task: id, attempt: task.attempt)
        workers[worker]?.leases.insert(lease)
        let assignment = TaskAssignment(lease: lease, leaseMilliseconds: UInt32(timings.leaseSeconds * 1000), work: task.work)
        return .dispatch(worker, assignment, expiresAt: task.leaseExpiresAt)
    }

    /// The oldest single-held lease that has run longer than `stragglerFactor` times its job's
    /// median task time, if `worker` may run it.
    func straggler(for worker: WorkerID, now: Double) -> Int64? {
        guard timings.stragglerFactor > 0 else { return nil }
        var best: (since: Double, id: Int64)?
        for (holder, entry) in workers where holder != worker {
            for lease in entry.leases {
                guard let task = tasks[lease.task], task.phase == .leased, task.holders.count == 1,
                    let since = task.holders.values.first?.since, let median = medianDuration(job: task.job),
                    now - since > timings.stragglerFactor * median, canRun(worker, task, now: now)
                else { continue }
                if best == nil || (since, task.id) < (best!.since, best!.id) { best = (since, task.id) }
            }
        }
        return best?.id
    }

    func medianDuration(job: Int64) -> Double? {
        guard let durations = jobs[job]?.recentDurations, !durations.isEmpty else { return nil }
        return durations.sorted()[durations.count / 2]
    }

    /// Records how long a lease took to deliver (the latest 32 per job).
    mutating func recordDuration(job: Int64, _ seconds: Double) {
        guard var entry = jobs[job] else { return }
        entry.recentDurations.append(seconds)
        if entry.recentDurations.count > 32 { entry.recentDurations.removeFirst() }
        jobs[job] = entry
    }
}
