import ReelCore
import ReelWire

/// Results, failures and commits: the exactly-once path.
extension Scheduler {
    mutating func acceptResult(from id: WorkerID, lease: LeaseRef) -> [SchedulerDirective] {
        guard var task = tasks[lease.task] else { return [.ignored("result for unknown task \(lease.task) from \(id)")] }
        if let state = jobs[task.job]?.state, state == .cancelled || state == .failed {
            return [.ignored("result for \(lease) of \(state) job \(task.job) from \(id)")]
        }
        guard task.phase == .leased, task.attempt == lease.attempt, task.worker == id else {
            let sameLease = task.attempt == lease.attempt && task.worker == id
            let why = sameLease && (task.phase == .done || task.phase == .committing) ? "duplicate" : "stale"
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

    mutating func committed(_ lease: LeaseRef) -> [SchedulerDirective] {
        guard var task = tasks[lease.task], task.phase == .committing else { return [] }
        task.phase = .done
        tasks[lease.task] = task
        var out: [SchedulerDirective] = []
        if let holder = task.worker { out.append(.send(holder, .ack(lease))) }
        guard var job = jobs[task.job] else { return out }
        job.remaining -= 1
        if job.remaining == 0 && job.state == .running {
            job.state = .encoding
            out.append(.chunksComplete(job: task.job))
        }
        jobs[task.job] = job
        return out
    }

    mutating func commitFailed(_ lease: LeaseRef, reason: String, diskFull: Bool) -> [SchedulerDirective] {
        guard var task = tasks[lease.task], task.phase == .committing else { return [] }
        task.phase = .pending
        task.worker = nil
        tasks[lease.task] = task
        insertPending(lease.task)
        var out: [SchedulerDirective] = [.requeue(task: lease.task, reason: "commit failed: \(reason)")]
        if diskFull { out += pauseForSpace(task.job, reason: reason) }
        return out
    }

    mutating func dispatchFailed(_ lease: LeaseRef, reason: String, diskFull: Bool) -> [SchedulerDirective] {
        guard var task = tasks[lease.task], task.phase == .leased, task.attempt == lease.attempt else { return [] }
        if let holder = task.worker { workers[holder]?.leases.remove(lease) }
        task.phase = .pending
        task.worker = nil
        tasks[lease.task] = task
        insertPending(lease.task)
        var out: [SchedulerDirective] = [.log("task \(lease.task) not dispatched: \(reason)")]
        if diskFull { out += pauseForSpace(task.job, reason: reason) }
        return out
    }

    mutating func taskFailed(from id: WorkerID, lease: LeaseRef, reason: String, now: Double) -> [SchedulerDirective] {
        guard var task = tasks[lease.task], task.phase == .leased, task.attempt == lease.attempt, task.worker == id else {
            return [.ignored("failure report for \(lease) from \(id) does not match a current lease")]
        }
        workers[id]?.leases.remove(lease)
        task.failures += 1
        task.phase = .pending
        task.worker = nil
        task.avoid.insert(id)
        task.notBefore = now + min(30, timings.retryBackoffSeconds * Double(1 << min(task.failures - 1, 10)))
        tasks[lease.task] = task
        var out: [SchedulerDirective] = []
        var job = jobs[task.job]!
        job.failuresByWorker[id, default: 0] += 1
        if job.failuresByWorker[id]! >= timings.blocklistAfter && !job.blocklist.contains(id) {
            job.blocklist.insert(id)
            out.append(.log("worker \(id) blocklisted for job \(task.job) after \(job.failuresByWorker[id]!) failures"))
        }
        jobs[task.job] = job
        if task.failures >= timings.maxFailures {
            return out + failJob(task.job, reason: "chunk \(task.chunk) failed \(task.failures) times; last on \(id): \(reason)")
        }
        let capable = workers.filter { $0.value.hello.backends.contains(task.work.backend.rawValue) }.map(\.key)
        if !capable.isEmpty && capable.allSatisfy({ job.blocklist.contains($0) }) {
            return out
                + failJob(
                    task.job,
                    reason:
                        "no worker left that can run it (blocklisted: \(job.blocklist.sorted().joined(separator: ", "))); last failure: \(reason)"
                )
        }
        insertPending(lease.task)
        return out + [.requeue(task: lease.task, reason: "worker \(id) failed it: \(reason)")]
    }
}
