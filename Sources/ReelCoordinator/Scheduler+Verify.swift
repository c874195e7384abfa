import ReelCore
import ReelWire

/// Verifying results by recomputation. The output is a pure function of the spec, so two
/// workers must return the same bytes for a task: a verified task is committed only when
/// workers of two principals agree on its result's digest; on a disagreement further workers
/// run it until one digest has two votes, and every principal that voted otherwise is
/// quarantined (its work for unfinished jobs is recomputed by the shell).
extension Scheduler {
    /// Whether task `id` is verified at `fraction`: a hash of its id, so a restart picks the same tasks.
    static func isVerified(_ id: Int64, fraction: Double) -> Bool {
        guard fraction > 0 else { return false }
        guard fraction < 1 else { return true }
        var mixed = UInt64(bitPattern: id) &+ 0x9E37_79B9_7F4A_7C15
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        mixed ^= mixed >> 31
        return Double(mixed >> 11) / Double(1 << 53) < fraction
    }

    /// What a verified task's result leads to.
    enum Tally {
        /// Commit it: it agrees with a vote of another principal. `losers`: principals that
        /// voted for another digest. (With no other principal connected, the task waits for one,
        /// and its job's status says so: a lone worker is never its own check.)
        case commit(losers: [Vote])
        /// Its vote is recorded; the task runs again elsewhere (or the job fails).
        case wait([SchedulerDirective])
    }

    /// Whether `worker` may cast a vote on `task`: a principal that has not voted, and for a
    /// model backend (bit-exact only on like hardware and software) a worker of the first
    /// voter's device, so results are compared exactly, and only where exactness holds.
    func mayVote(_ worker: Worker, on task: Task) -> Bool {
        guard let first = task.votes.first else { return true }
        guard !task.votes.contains(where: { $0.principal == worker.principal }) else { return false }
        return task.work.backend != .diffusers || worker.hello.device == first.device
    }

    /// Counts `id`'s result of `task` (leased as `lease`, holder check done) with the task's votes.
    mutating func tally(_ task: inout Task, lease: LeaseRef, from id: WorkerID, digest: String, now: Double) -> Tally {
        let principal = workers[id]?.principal ?? Self.principal(of: id)
        if task.votes.contains(where: { $0.digest == digest && $0.principal != principal }) {
            return .commit(losers: task.votes.filter { $0.digest != digest })
        }
        task.votes.append(Vote(worker: id, principal: principal, digest: digest, device: workers[id]?.hello.device ?? ""))
        task.holders[id] = nil
        if task.holders.isEmpty { task.phase = .pending }
        tasks[task.id] = task
        workers[id]?.leases.remove(lease)
        workers[id]?.advancedAt = now
        var out: [SchedulerDirective] = [.send(id, .ack(lease))]
        let digests = Set(task.votes.map(\.digest)).count
        if task.votes.count >= timings.maxVotes {
            return .wait(out + failJob(task.job, reason: "chunk \(task.chunk): \(task.votes.count) workers returned \(digests) different results"))
        }
        out.append(
            .log(
                digests > 1
                    ? "task \(task.id): results of \(task.votes.map(\.worker).joined(separator: ", ")) disagree; another worker decides"
                    : "task \(task.id): result of \(id) awaits verification by a worker of another principal"))
        if task.phase == .pending {
            out.append(.requeue(task: task.id, reason: "awaits verification"))
            insertPending(task.id)
        }
        return .wait(out)
    }

    /// Takes `principal` out of the farm for good: its workers are dropped, its votes void;
    /// the shell records it and recomputes what it committed for unfinished jobs.
    mutating func quarantine(_ principal: WorkerID, reason: String) -> [SchedulerDirective] {
        guard !quarantined.contains(principal) else { return [] }
        quarantined.insert(principal)
        var out: [SchedulerDirective] = [.quarantine(principal: principal, reason: reason)]
        for (id, worker) in workers.all.sorted(by: { $0.key < $1.key }) where worker.principal == principal {
            out.append(.send(id, .disconnect(reason: "quarantined: \(reason)")))
            out += dropWorker(id, reason: "worker \(id) quarantined")
        }
        for (id, task) in tasks where task.votes.contains(where: { $0.principal == principal }) {
            tasks[id]?.votes.removeAll { $0.principal == principal }
        }
        return out
    }

    /// Hands back tasks of `job` that were committed and must run again (their worker was
    /// quarantined, or they were computed from one that was): the shell has reset their rows.
    /// `waiting`: uncommitted tasks and which reopened ones each depends on; the resident
    /// ones wait for those again (a leased one is released first).
    public mutating func reopen(_ reopened: [StoredTask], waiting: [Int64: [Int64]], job: Int64, now: Double) -> [SchedulerDirective] {
        guard let entry = jobs[job], entry.state == .running || entry.state == .paused else { return [] }
        var out: [SchedulerDirective] = []
        jobs[job]?.remaining += reopened.count
        for id in insert(reopened.filter { $0.position <= entry.loadedThrough }, job: job, now: now) { insertPending(id) }
        for (id, inputs) in waiting.sorted(by: { $0.key < $1.key }) where tasks[id] != nil {
            let resident = inputs.filter { tasks[$0] != nil }
            guard !resident.isEmpty else { continue }
            // Whatever it computed (or is computing, or committing) came from the wrong input.
            if tasks[id]?.phase != .pending { out += requeue(id, reason: "its input is being recomputed") }
            tasks[id]?.votes = []
            tasks[id]?.unmetDependencies += resident.count
            for input in resident { dependents[input, default: []].append(id) }
        }
        // Conditioning built from what was reopened is void: the shell forgets the job's, and
        // builds each again when its task is next ready.
        for (id, task) in tasks where task.job == job { tasks[id]?.conditioned = false }
        rebuildPending()
        return out
    }
}
