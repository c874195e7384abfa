import Foundation
import ReelCore
import ReelPlan
import ReelStitch
import ReelStore
import ReelWire

/// Carrying out the scheduler's directives: persist first, then speak (a lease excepted: its
/// task goes out first and the lease is recorded before the loop's turn ends, decision 0040).
extension Coordinator {
    /// Carries out directives in order. Dispatches and commits are deferred to ``flush()``,
    /// which sends a whole drain's worth of tasks and commits its results as one group.
    func execute(_ directives: [SchedulerDirective], payload: TaskResult? = nil) {
        for directive in directives {
            switch directive {
            case .dispatch(let worker, let assignment, let job, let unit, let expiresAt):
                deferredDispatches.append(
                    DeferredDispatch(
                        worker: worker, assignment: assignment, job: job, unit: unit, expiresAt: expiresAt, requestedAt: metrics.eventTime,
                        startsJob: startingJob || startingJobs.contains(job)))
            case .commit(let worker, let lease, let job, let chunk):
                guard let payload, payload.lease == lease else { continue }
                workerTallies[worker]?.tasksDone += 1
                // The first result of the tasks a job's start handed out ends the start.
                if plans[job]?.plan.units[chunk].stage != .keyframes {
                    startingJobs.remove(job)
                    startedJobs.insert(job)
                }
                deferredCommits.append(
                    DeferredCommit(
                        worker: worker, lease: lease, job: job, chunk: chunk, latents: payload.latents, checksum: payload.checksum,
                        sampleMilliseconds: payload.sampleMilliseconds))
            case .requeue(let task, let reason):
                logger.info("requeued task \(task): \(reason)")
                options.prometheus?.requeued(reason: reason)
                recordSentLeases()
                do { try store.requeue(task: task, reason: reason, now: now()) } catch { logger.error("\(error)") }
            case .send(let worker, let message):
                if case .ack(let lease) = message, let roundTrip = metrics.committed(lease, at: now()) {
                    options.prometheus?.acknowledged(roundTrip: roundTrip)
                }
                send(worker, message)
            case .chunksComplete(let job):
                startEncode(job)
            case .setJobState(let job, let state, let reason):
                recordJobState(job, state, reason: reason)
                if state == .failed || state == .cancelled {
                    options.prometheus?.finished(state, frames: 0)
                    notify(job, state, reason: reason)
                }
                switch state {
                case .running: startEncode(job)
                case .cancelled, .failed:
                    encoder.cancel(job: job)
                    forgetConditioning(job: job)
                    startingJobs.remove(job)
                    startedJobs.remove(job)
                case .paused:
                    // Its tasks are not leased while it is paused: built again when it resumes.
                    forgetConditioning(job: job)
                default: break
                }
            case .finishJob(let job, let checksums):
                recordJobState(job, .done, reason: nil, checksums: checksums)
                options.prometheus?.finished(.done, frames: plans[job]?.spec.frameCount ?? 0)
                notify(job, .done, reason: nil, checksums: checksums)
                forgetConditioning(job: job)
                startingJobs.remove(job)
                startedJobs.remove(job)
                logger.info("job \(job) done: \(plans[job]?.spec.output ?? "?")")
                plans[job] = nil
            case .quarantine(let principal, let reason):
                quarantine(principal, reason: reason)
            case .ignored(let reason):
                drop(reason, cause: .stale)
            case .log(let text):
                logger.info("\(text)")
            }
        }
    }

    /// Sends deferred tasks first (their leases recorded in one transaction), so a worker
    /// whose result just arrived is busy again before that result's commit; then, unless a group
    /// commit is in flight, hands the deferred results to ``SegmentAppender`` as the next group
    /// (made durable on its thread, one flush per job); and once a group is durable, commits its
    /// rows in one transaction and tells the scheduler, which may free more tasks and ask for
    /// the next page of a job's tasks. Waits for the disk's flush only while no conditioning is
    /// being built (decision 0032).
    func flush() {
        collectConditioning()
        while true {
            dispatchDeferred()
            // Pages come in after the tasks already ready went out.
            loadWantedPages()
            if let written = segments.takeWritten() {
                finishCommit(written)
                continue
            }
            if !segments.isBusy && !deferredCommits.isEmpty {
                startCommit()
                // Serving beside the flush pays only while conditioning is being built: a
                // dispatch parked on a build (or one built ahead) goes out when it lands, not
                // after the disk. Otherwise the loop waits for the flush here, as an inline
                // commit would, and spares the results their hand-back through the poll.
                if conditioning.pending == 0, let written = segments.waitWritten() {
                    finishCommit(written)
                    continue
                }
            }
            if deferredDispatches.isEmpty { break }
        }
        prepareAwaiting()
    }

    /// Waits for the group commit in flight and commits what is deferred (the loop is ending).
    func finishCommits() {
        while segments.isBusy || !deferredCommits.isEmpty {
            if let written = segments.waitWritten() { finishCommit(written) }
            dispatchDeferred()
            if !segments.isBusy && !deferredCommits.isEmpty { startCommit() }
        }
        recordSentLeases()
    }

    /// Sends the deferred tasks (their leases are recorded before the loop's turn ends).
    func dispatchDeferred() {
        let dispatches = deferredDispatches
        deferredDispatches = []
        dispatchAll(dispatches)
    }

    /// Sends the tasks whose conditioning is at hand; the rest wait for the pool
    /// (``dispatchWhenConditioned(_:)``).
    private func dispatchAll(_ dispatches: [DeferredDispatch]) {
        guard !dispatches.isEmpty else { return }
        send(dispatches.compactMap(dispatchWhenConditioned), failed: [])
    }

    /// Sends the tasks, whose leases ``recordSentLeases()`` records before the loop's turn
    /// ends (decision 0040); `failed` is handed back to the scheduler.
    func send(_ ready: [DeferredDispatch], failed: [(LeaseRef, ReelError)]) {
        for dispatch in ready {
            send(dispatch)
            sentLeases.append((dispatch.assignment.lease, dispatch.worker, dispatch.expiresAt))
            metrics.dispatched(dispatch.assignment.lease, at: now(), requestedAt: dispatch.requestedAt, startsJob: dispatch.startsJob)
            options.prometheus?.dispatched(latency: max(0, now() - dispatch.requestedAt))
        }
        handBack(failed)
    }

    /// Records the leases sent since the last call, in one transaction without waiting for
    /// the disk. Called before the loop polls again, before a task's row is requeued or
    /// committed, and as the loop ends, so the store sees each lease before anything that
    /// follows it. A lease that cannot be recorded is revoked from its worker and handed back
    /// to the scheduler.
    func recordSentLeases() {
        guard !sentLeases.isEmpty else { return }
        let sent = sentLeases
        sentLeases = []
        do {
            try store.recordLeases(
                sent.map { Store.Lease(task: $0.lease.task, attempt: Int($0.lease.attempt), worker: $0.worker, expiresAt: $0.expiresAt) },
                now: now())
        } catch {
            let error = error as? ReelError ?? ReelError(.store, "\(error)")
            for (lease, worker, _) in sent { send(worker, .revoke(lease)) }
            handBack(sent.map { ($0.lease, error) })
        }
    }

    /// Tells the scheduler that these leases' tasks were not dispatched.
    private func handBack(_ failed: [(LeaseRef, ReelError)]) {
        for (lease, error) in failed {
            logger.error("cannot dispatch \(lease): \(error)")
            execute(scheduler.handle(.dispatchFailed(lease, reason: error.message, diskFull: error.code == .diskFull), now: now()))
        }
    }

    /// Hands the deferred results of loaded jobs to ``SegmentAppender`` as one group; a result
    /// of a job no longer loaded fails at once.
    private func startCommit() {
        var group = CommitGroup(commits: deferredCommits)
        deferredCommits = []
        var items: [SegmentAppender.Item] = []
        for (index, commit) in group.commits.enumerated() {
            // (Its size was checked when it arrived.)
            guard plans[commit.job] != nil else {
                group.outcomes[index] = .commitFailed(commit.lease, reason: "job \(commit.job) is not loaded", diskFull: false)
                continue
            }
            items.append((commit.job, commit.latents))
            group.appended.append(index)
        }
        committing = group
        metrics.commitBatches += 1
        segments.start(items)
    }

    /// Commits the rows of the group whose artifacts are now durable (or failed), then tells
    /// the scheduler each outcome; ACKs go out only after both.
    private func finishCommit(_ written: SegmentAppender.Written) {
        guard var group = committing else { return }
        committing = nil
        var rows: [Store.Commit] = []
        var rowOwner: [(index: Int, location: ArtifactLocation)] = []
        for (position, result) in written.enumerated() {
            let index = group.appended[position]
            let commit = group.commits[index]
            switch result {
            case .failure(let error):
                logger.error("commit of \(commit.lease) failed: \(error)")
                group.outcomes[index] = .commitFailed(commit.lease, reason: error.message, diskFull: error.code == .diskFull)
            case .success(let location):
                rows.append(
                    Store.Commit(
                        task: commit.lease.task, attempt: Int(commit.lease.attempt), worker: commit.worker,
                        checksum: Checksum.hex(commit.checksum), artifact: location.description))
                rowOwner.append((index, location))
            }
        }
        recordSentLeases()
        do {
            for (owner, committed) in zip(rowOwner, try store.commitResults(rows, now: now())) {
                let commit = group.commits[owner.index]
                if committed {
                    plans[commit.job]?.index[commit.chunk] = owner.location
                    group.outcomes[owner.index] = .committed(commit.lease)
                } else {
                    group.outcomes[owner.index] = .commitFailed(commit.lease, reason: "the store no longer holds this lease", diskFull: false)
                }
            }
        } catch {
            let error = error as? ReelError ?? ReelError(.store, "\(error)")
            logger.error("commit of \(rows.count) result(s) failed: \(error)")
            for owner in rowOwner {
                group.outcomes[owner.index] = .commitFailed(
                    group.commits[owner.index].lease, reason: error.message, diskFull: error.code == .diskFull)
            }
        }
        // Tasks these commits free become dispatchable now: their dispatch latency runs from
        // here (the group commit is the round trip of the results it holds).
        metrics.eventTime = now()
        // Told to the scheduler sixteen at a time, what each batch frees sent before the next
        // (one dispatch pass a batch, not one a commit; decision 0043).
        let outcomes = zip(group.commits, group.outcomes).compactMap { commit, outcome in outcome.map { (commit, $0) } }
        for start in stride(from: 0, to: outcomes.count, by: Self.outcomesPerDispatch) {
            let batch = outcomes[start..<min(start + Self.outcomesPerDispatch, outcomes.count)]
            for (commit, outcome) in batch {
                // Committed keyframe sets release the job's first chunks: the tasks that fill the
                // workers then are that job's start, like its submission's.
                if case .committed = outcome, plans[commit.job]?.plan.units[commit.chunk].stage == .keyframes,
                    !startedJobs.contains(commit.job)
                {
                    startingJobs.insert(commit.job)
                }
            }
            execute(scheduler.handle(batch.map(\.1), now: now()))
            for (commit, outcome) in batch {
                if case .committed = outcome {
                    dropConditioning(commit.lease.task)
                    metrics.tasksCommitted += 1
                    metrics.samplerSeconds += Double(commit.sampleMilliseconds) / 1000
                    options.prometheus?.committed(samplerSeconds: Double(commit.sampleMilliseconds) / 1000, bytes: commit.latents.count)
                } else {
                    metrics.forget(commit.lease)
                }
            }
            dispatchDeferred()
        }
    }

    /// How many of a group's outcomes the scheduler is told of before what they freed is sent.
    static let outcomesPerDispatch = 16

    /// The committed outputs of a loaded job.
    func jobArtifacts(_ job: Int64) -> JobArtifacts? {
        plans[job].map { JobArtifacts(job: job, spec: $0.spec, plan: $0.plan, store: artifacts, index: $0.index) }
    }

    /// Persists a job transition; if the store cannot (a full disk), keeps it to retry.
    func recordJobState(_ job: Int64, _ state: JobState, reason: String?, checksums: OutputChecksums? = nil) {
        logger.info("job \(job) is \(state.rawValue)\(reason.map { ": \($0)" } ?? "")")
        unrecordedStates[job] = (state, reason, checksums)
        retryUnrecordedStates()
    }

    func retryUnrecordedStates() {
        for (job, entry) in unrecordedStates.sorted(by: { $0.key < $1.key }) {
            do {
                try store.setJobState(
                    job, entry.state, reason: entry.reason, now: now(), latentChecksum: entry.checksums?.latents,
                    frameChecksum: entry.checksums?.frames)
                unrecordedStates[job] = nil
            } catch {
                logger.error("cannot record job \(job) as \(entry.state.rawValue) yet (will retry): \(error)")
            }
        }
    }

    /// While a job is paused for lack of space, checks every 2 s whether a chunk fits again.
    func probeSpaceIfPaused() {
        guard scheduler.hasJobsPausedForSpace, now() - lastSpaceProbe >= 2 else { return }
        lastSpaceProbe = now()
        let chunkBytes =
            plans.values.map { entry in
                entry.plan.units.indices.map { Planner.work(entry.spec, entry.plan, unit: $0).resultCount / 3 }.max() ?? 0
            }.max() ?? 0
        let probeBytes = max(1 << 20, 2 * chunkBytes * 3 * 2)
        if artifacts.hasRoom(bytes: probeBytes) {
            execute(scheduler.handle(.spaceAvailable, now: now()))
        }
    }

    /// Records a quarantine, then returns to pending what the principal committed for jobs
    /// still running or paused, with every committed task computed from those, and hands them
    /// to the scheduler.
    func quarantine(_ principal: WorkerID, reason: String) {
        logger.warning("quarantined \(principal): \(reason)")
        do { try store.recordQuarantine(principal, reason: reason, now: now()) } catch { logger.error("\(error)") }
        for (job, entry) in plans.sorted(by: { $0.key < $1.key }) where [.running, .paused].contains(scheduler.state(job: job)) {
            do {
                let tainted = try store.tasksCommitted(job: job, by: principal).compactMap { entry.unit(of: $0.id!) }
                guard !tainted.isEmpty else { continue }
                let records = try store.tasks(job: job)
                let done = Set(records.filter { $0.state == .done }.compactMap { entry.unit(of: $0.id!) })
                let (reopened, waiting) = entry.plan.recomputation(of: tainted, committed: done)
                let ids = reopened.map { entry.firstTask + Int64($0) }
                try store.reopen(tasks: ids, reason: "recomputed: \(principal) was quarantined", now: now())
                for unit in reopened { entry.index[unit] = nil }
                // The encode, and conditioning built ahead, may have read some of them: both start over.
                encoder.restart(job: job)
                forgetConditioning(job: job)
                let stored = reopened.map {
                    StoredTask(
                        id: entry.firstTask + Int64($0), position: Int64(entry.pagePosition[$0]), chunk: $0,
                        work: Planner.work(entry.spec, entry.plan, unit: $0), done: false,
                        attempt: UInt32(clamping: records[$0].attempt),
                        dependencies: entry.plan.units[$0].dependencies.map { entry.firstTask + Int64($0) }, stage: entry.plan.units[$0].stage)
                }
                let waitingTasks = Dictionary(
                    uniqueKeysWithValues: waiting.map { (entry.firstTask + Int64($0.key), $0.value.map { entry.firstTask + Int64($0) }) })
                logger.warning("job \(job): \(reopened.count) committed task(s) of \(principal), or computed from them, run again")
                execute(scheduler.reopen(stored, waiting: waitingTasks, job: job, now: now()))
            } catch {
                logger.error("cannot recompute job \(job)'s tasks of quarantined \(principal): \(error)")
            }
        }
    }
}
