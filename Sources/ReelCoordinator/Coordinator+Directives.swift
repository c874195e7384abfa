import Foundation
import ReelCore
import ReelPlan
import ReelStitch
import ReelStore
import ReelWire

/// Carrying out the scheduler's directives: persist first, then speak.
extension Coordinator {
    func execute(_ directives: [SchedulerDirective], payload: TaskResult? = nil) {
        for directive in directives {
            switch directive {
            case .dispatch(let worker, let assignment, let expiresAt):
                dispatch(worker, assignment, expiresAt: expiresAt)
            case .commit(let worker, let lease, let job, let chunk):
                guard let payload, payload.lease == lease else { continue }
                let outcome = commit(worker: worker, lease: lease, job: job, chunk: chunk, latents: payload.latents)
                execute(scheduler.handle(outcome, now: now()))
            case .requeue(let task, let reason):
                logger.info("requeued task \(task): \(reason)")
                do { try store.requeue(task: task, reason: reason, now: now()) } catch { logger.error("\(error)") }
            case .send(let worker, let message):
                send(worker, message)
            case .chunksComplete(let job):
                startEncode(job)
            case .setJobState(let job, let state, let reason):
                recordJobState(job, state, reason: reason)
            case .ignored(let reason):
                drop(reason)
            case .log(let text):
                logger.info("\(text)")
            }
        }
    }

    /// Records the lease, then sends the task; a task whose lease cannot be recorded is not sent.
    private func dispatch(_ worker: WorkerID, _ assignment: TaskAssignment, expiresAt: Double) {
        var assignment = assignment
        do {
            if let (job, unit) = unit(of: assignment.lease.task), let committed = jobArtifacts(job) {
                assignment.conditioning = try ConditioningAssembler(
                    spec: committed.spec, plan: committed.plan, latents: committed.latents, frame: committed.frame
                ).conditioning(unit: unit)
            }
            try store.recordLease(
                task: assignment.lease.task, attempt: Int(assignment.lease.attempt), worker: worker, expiresAt: expiresAt, now: now())
            send(worker, .task(assignment))
            logger.debug("dispatched \(assignment.lease) to \(worker)")
        } catch {
            let error = error as? ReelError ?? ReelError(.store, "\(error)")
            logger.error("cannot record the lease of \(assignment.lease): \(error)")
            execute(
                scheduler.handle(.dispatchFailed(assignment.lease, reason: error.message, diskFull: error.code == .diskFull), now: now()))
        }
    }

    /// Writes the artifact durably, then commits the row; the ACK goes out only after both.
    private func commit(worker: WorkerID, lease: LeaseRef, job: Int64, chunk: Int, latents: [UInt8]) -> SchedulerEvent {
        guard let entry = plans[job] else { return .commitFailed(lease, reason: "job \(job) is not loaded", diskFull: false) }
        let expected = Planner.work(entry.spec, entry.plan, unit: chunk).resultCount * 2
        guard latents.count == expected else {
            return .commitFailed(lease, reason: "result holds \(latents.count) bytes, the task needs \(expected)", diskFull: false)
        }
        let path = jobArtifacts(job)!.path(chunk)
        do {
            try artifacts.write(latents, to: path)
            let committed = try store.commitResult(
                task: lease.task, attempt: Int(lease.attempt), worker: worker,
                checksum: Checksum.hex(Checksum.fnv1a(latents)), artifact: path, now: now())
            guard committed else { return .commitFailed(lease, reason: "the store no longer holds this lease", diskFull: false) }
            return .committed(lease)
        } catch let error as ReelError {
            logger.error("commit of \(lease) failed: \(error)")
            return .commitFailed(lease, reason: error.message, diskFull: error.code == .diskFull)
        } catch {
            return .commitFailed(lease, reason: "\(error)", diskFull: false)
        }
    }

    /// The committed outputs of a loaded job.
    func jobArtifacts(_ job: Int64) -> JobArtifacts? {
        plans[job].map { JobArtifacts(job: job, spec: $0.spec, plan: $0.plan, store: artifacts) }
    }

    /// The job and plan unit of a task id.
    func unit(of task: Int64) -> (job: Int64, unit: Int)? {
        for (job, entry) in plans {
            if let unit = entry.unitOfTask[task] { return (job, unit) }
        }
        return nil
    }

    /// Persists a job transition; if the store cannot (a full disk), keeps it to retry.
    func recordJobState(_ job: Int64, _ state: JobState, reason: String?) {
        logger.info("job \(job) is \(state.rawValue)\(reason.map { ": \($0)" } ?? "")")
        do {
            try store.setJobState(job, state, reason: reason, now: now())
            unrecordedStates[job] = nil
        } catch {
            logger.error("cannot record job \(job) as \(state.rawValue) yet: \(error)")
            unrecordedStates[job] = (state, reason)
        }
    }

    func retryUnrecordedStates() {
        for (job, entry) in unrecordedStates.sorted(by: { $0.key < $1.key }) {
            if (try? store.setJobState(job, entry.state, reason: entry.reason, now: now())) != nil { unrecordedStates[job] = nil }
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
}
