import ReelCore
import ReelWire

/// Liveness, expiry and dispatch.
extension Scheduler {
    mutating func expire(now: Double) -> [SchedulerDirective] {
        var out: [SchedulerDirective] = []
        for (id, worker) in workers.sorted(by: { $0.key < $1.key }) where now - worker.lastSeen > timings.workerTimeoutSeconds {
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

    /// A lost lease is not the task's fault: it does not count as a failure.
    mutating func requeue(_ id: Int64, reason: String) -> [SchedulerDirective] {
        guard var task = tasks[id], task.phase == .leased else { return [] }
        task.phase = .pending
        task.worker = nil
        tasks[id] = task
        insertPending(id)
        return [.requeue(task: id, reason: reason)]
    }

    func isDispatchable(_ task: Task) -> Bool {
        task.phase == .pending && jobs[task.job]?.state == .running
    }

    mutating func insertPending(_ id: Int64) {
        guard let task = tasks[id], isDispatchable(task), !pending.contains(id) else { return }
        let key = (task.job, task.chunk)
        let position = pending.firstIndex { (tasks[$0]!.job, tasks[$0]!.chunk) > key } ?? pending.endIndex
        pending.insert(id, at: position)
    }

    mutating func rebuildPending() {
        pending = tasks.values.filter(isDispatchable).sorted { ($0.job, $0.chunk) < ($1.job, $1.chunk) }.map(\.id)
    }

    mutating func heartbeats(now: Double) -> [SchedulerDirective] {
        var out: [SchedulerDirective] = []
        for (id, worker) in workers.sorted(by: { $0.key < $1.key }) where now - worker.lastHeartbeatSent >= timings.heartbeatSeconds {
            workers[id]?.lastHeartbeatSent = now
            out.append(.send(id, .heartbeat))
        }
        return out
    }

    /// Whether `worker` may take `task` now: its backend, not blocklisted for the job, past the
    /// retry back-off, and not a worker that failed it while another capable worker exists.
    func canRun(_ worker: WorkerID, _ task: Task, now: Double) -> Bool {
        guard let entry = workers[worker], entry.hello.backends.contains(task.work.backend.rawValue),
            isDispatchable(task), task.notBefore <= now, jobs[task.job]?.blocklist.contains(worker) == false,
            task.dependencies.allSatisfy({ tasks[$0]?.phase == .done })
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

    /// Gives every worker with a free slot the first pending task it may run.
    mutating func dispatch(now: Double) -> [SchedulerDirective] {
        guard !pending.isEmpty else { return [] }
        var out: [SchedulerDirective] = []
        for id in workers.keys.sorted() {
            while let worker = workers[id], worker.leases.count < Int(worker.hello.slots),
                let position = pending.firstIndex(where: { canRun(id, tasks[$0]!, now: now) })
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
