import ReelCore
import ReelWire

/// Liveness, expiry and the ready queue.
extension Scheduler {
    mutating func expire(now: Double) -> [SchedulerDirective] {
        var out: [SchedulerDirective] = []
        for (id, worker) in workers.sorted(by: { $0.key < $1.key }) where now - worker.lastSeen > timings.workerTimeoutSeconds {
            workers[id] = nil
            out.append(.log(String(format: "worker %@ silent for %.1f s: dropped", id, now - worker.lastSeen)))
            for lease in worker.leases.sorted(by: { $0.task < $1.task }) {
                out += release(lease.task, from: id, reason: "worker \(id) went silent")
            }
        }
        let expired = tasks.values.filter { $0.phase == .leased && $0.leaseExpiresAt < now }.map(\.id).sorted()
        for id in expired {
            for holder in tasks[id]!.holders.keys.sorted() {
                out += release(id, from: holder, reason: "lease of \(holder) expired")
            }
        }
        return out
    }

    /// Takes `worker`'s lease of a task away; when no holder is left, the task is pending again.
    /// A lost lease is not the task's fault: it does not count as a failure.
    mutating func release(_ id: Int64, from worker: WorkerID, reason: String) -> [SchedulerDirective] {
        guard var task = tasks[id], task.phase == .leased, let holding = task.holders.removeValue(forKey: worker) else { return [] }
        workers[worker]?.leases.remove(LeaseRef(task: id, attempt: holding.attempt))
        tasks[id] = task
        guard task.holders.isEmpty else { return [.log("task \(id): \(reason); its backup lease goes on")] }
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

    func isDispatchable(_ task: Task) -> Bool {
        task.phase == .pending && task.unmetDependencies == 0 && jobs[task.job]?.state == .running
    }

    /// Puts a ready task into the queue at its place in dispatch order.
    mutating func insertPending(_ id: Int64) {
        guard let task = tasks[id], isDispatchable(task), !pendingSet.contains(id) else { return }
        var low = 0, high = pending.count
        while low < high {
            let middle = (low + high) / 2
            if tasks[pending[middle]]!.order < task.order { low = middle + 1 } else { high = middle }
        }
        pending.insert(id, at: low)
        pendingSet.insert(id)
    }

    mutating func removePending(at position: Int) -> Int64 {
        let id = pending.remove(at: position)
        pendingSet.remove(id)
        return id
    }

    mutating func rebuildPending() {
        pending = tasks.values.filter(isDispatchable).sorted { $0.order < $1.order }.map(\.id)
        pendingSet = Set(pending)
    }

    mutating func heartbeats(now: Double) -> [SchedulerDirective] {
        var out: [SchedulerDirective] = []
        for (id, worker) in workers.sorted(by: { $0.key < $1.key }) where now - worker.lastHeartbeatSent >= timings.heartbeatSeconds {
            workers[id]?.lastHeartbeatSent = now
            out.append(.send(id, .heartbeat))
        }
        return out
    }
}
