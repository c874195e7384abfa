import ReelCore
import ReelWire

/// Results, failures and commits: the exactly-once path.
extension Scheduler {
    /// A result this coordinator will not commit is answered with a revoke, so the worker
    /// forgets it instead of sending it again until it gets an ack (and never counting as idle);
    /// only the winner's duplicate of a result being committed waits for the ack it will get.
    mutating func acceptResult(from id: WorkerID, lease: LeaseRef, digest: String = "", now: Double) -> [SchedulerDirective] {
        guard var task = tasks[lease.task] else {
            return [.ignored("stale result for \(lease) from \(id): the task is committed (or unknown)"), .send(id, .revoke(lease))]
        }
        if let state = jobs[task.job]?.state, state == .cancelled || state == .failed {
            return [.ignored("result for \(lease) of \(state) job \(task.job) from \(id)"), .send(id, .revoke(lease))]
        }
        guard task.phase == .leased, let holding = task.holders[id], holding.attempt == lease.attempt else {
            let duplicate = task.winner == id && task.attempt == lease.attempt && task.phase == .committing
            let ignored = SchedulerDirective.ignored(
                "\(duplicate ? "duplicate" : "stale") result for \(lease) from \(id) (task is \(task.phase), attempt \(task.attempt))")
            return duplicate ? [ignored] : [ignored, .send(id, .revoke(lease))]
        }
        var out: [SchedulerDirective] = []
        if task.verify {
            switch tally(&task, lease: lease, from: id, digest: digest, now: now) {
            case .wait(let directives):
                return directives
            case .commit(let losers):
                let winner = workers[id]?.principal ?? Self.principal(of: id)
                for principal in Set(losers.map(\.principal)).sorted() {
                    out += quarantine(
                        principal,
                        reason: "its result of task \(task.id) (job \(task.job) chunk \(task.chunk)) disagreed with \(winner)'s and another's")
                }
                if !losers.isEmpty || !task.votes.isEmpty {
                    out.append(.log("task \(task.id): result of \(id) verified by \(task.votes.filter { $0.digest == digest }.map(\.worker).joined(separator: ", "))"))
                }
            }
        }
        // First result wins; the other holder (a straggler's backup) is told to drop its copy.
        out.append(.commit(id, lease, job: task.job, chunk: task.chunk))
        for (holder, other) in task.holders.sorted(by: { $0.key < $1.key }) {
            let otherLease = LeaseRef(task: task.id, attempt: other.attempt)
            workers[holder]?.leases.remove(otherLease)
            if holder != id { out.append(.send(holder, .revoke(otherLease))) }
        }
        recordDuration(job: task.job, now - holding.since, steps: task.runSteps)
        workers[id]?.advancedAt = now
        task.phase = .committing
        task.winner = id
        task.attempt = lease.attempt
        task.holders = [:]
        tasks[lease.task] = task
        if workers[id] == nil { out.append(.send(id, .disconnect(reason: "unknown worker: send READY"))) }
        return out
    }

    mutating func committed(_ lease: LeaseRef) -> [SchedulerDirective] {
        guard let task = tasks[lease.task], task.phase == .committing else { return [] }
        var out: [SchedulerDirective] = []
        if let winner = task.winner { out.append(.send(winner, .ack(lease))) }
        for dependent in dependents[task.id] ?? [] {
            tasks[dependent]?.unmetDependencies -= 1
            insertPending(dependent)
        }
        // A committed task leaves memory; the store has it.
        tasks[lease.task] = nil
        dependents[task.id] = nil
        guard var job = jobs[task.job] else { return out }
        job.resident -= 1
        job.remaining -= 1
        jobs[task.job] = job
        if job.remaining == 0 && job.state == .running { out += startEncoding(task.job) }
        return out
    }

    mutating func commitFailed(_ lease: LeaseRef, reason: String, diskFull: Bool) -> [SchedulerDirective] {
        guard let task = tasks[lease.task], task.phase == .committing else { return [] }
        var out = requeue(lease.task, reason: "commit failed: \(reason)")
        if diskFull { out += pauseForSpace(task.job, reason: reason) }
        return out
    }

    mutating func dispatchFailed(_ lease: LeaseRef, reason: String, diskFull: Bool) -> [SchedulerDirective] {
        guard let task = tasks[lease.task], task.phase == .leased,
            let holder = task.holders.first(where: { $0.value.attempt == lease.attempt })?.key
        else { return [] }
        var out: [SchedulerDirective] = [.log("task \(lease.task) not dispatched: \(reason)")]
        out += release(lease.task, from: holder, reason: "not dispatched: \(reason)")
        if diskFull { out += pauseForSpace(task.job, reason: reason) }
        return out
    }

    mutating func taskFailed(from id: WorkerID, lease: LeaseRef, reason: String, outOfMemory: Bool = false, now: Double)
        -> [SchedulerDirective]
    {
        guard var task = tasks[lease.task], task.phase == .leased, task.holders[id]?.attempt == lease.attempt else {
            return [.ignored("failure report for \(lease) from \(id) does not match a current lease")]
        }
        task.holders[id] = nil
        workers[id]?.leases.remove(lease)
        task.failures += 1
        task.avoid.insert(id)
        task.notBefore = now + min(30, timings.retryBackoffSeconds * Double(1 << min(task.failures - 1, 10)))
        let stillHeld = !task.holders.isEmpty
        if !stillHeld { task.phase = .pending }
        tasks[lease.task] = task
        var out: [SchedulerDirective] = []
        var job = jobs[task.job]!
        if outOfMemory, let memory = workers[id]?.hello.memoryMegabytes {
            let kind = MemoryKind(task.work), known = job.memoryFloors[kind]
            job.memoryFloors[kind] = (min(task.cost, known?.cost ?? .max), max(memory, known?.megabytes ?? 0))
        }
        // Counted by principal (the CURVE key, or the name on loopback): a new name evades nothing.
        let principal = workers[id]?.principal ?? Self.principal(of: id)
        job.failuresByWorker[principal, default: 0] += 1
        if job.failuresByWorker[principal]! >= timings.blocklistAfter && !job.blocklist.contains(principal) {
            job.blocklist.insert(principal)
            out.append(.log("\(principal) blocklisted for job \(task.job) after \(job.failuresByWorker[principal]!) failures"))
        }
        jobs[task.job] = job
        if task.failures >= timings.maxFailures {
            return out + failJob(task.job, reason: "chunk \(task.chunk) failed \(task.failures) times; last on \(id): \(reason)")
        }
        if outOfMemory, !workers.all.values.contains(where: { $0.offers(task.work) && hasMemory($0, for: task) }) {
            let most = job.memoryFloors[MemoryKind(task.work)]?.megabytes ?? 0
            return out + failJob(task.job, reason: "out of memory: no live worker has more than \(most) MB; last on \(id): \(reason)")
        }
        let capable = workers.all.values.filter { $0.offers(task.work) }.map(\.principal)
        if !capable.isEmpty && capable.allSatisfy({ job.blocklist.contains($0) }) {
            return out
                + failJob(
                    task.job,
                    reason:
                        "no worker left that can run it (blocklisted: \(job.blocklist.sorted().joined(separator: ", "))); last failure: \(reason)"
                )
        }
        if stillHeld { return out + [.log("worker \(id) failed task \(lease.task) (\(reason)); its other lease goes on")] }
        insertPending(lease.task)
        return out + [.requeue(task: lease.task, reason: "worker \(id) failed it: \(reason)")]
    }
}
