import Foundation
import ReelCore
import ReelStore
import ReelWire

/// A task's conditioning as the coordinator tracks it between the pool and the socket.
struct ConditioningEntry {
    enum State {
        /// On the pool; `parked`: a dispatch waiting for it.
        case building(parked: DeferredDispatch?)
        case built(EncodedConditioning)
        /// Sent with a lease and kept until the task commits, or until its worker, still
        /// holding it, is leased another: so a backup lease of a queued task, or a retry, goes
        /// out at once instead of waiting for a build of its own (decision 0038).
        case leased(EncodedConditioning)
    }

    let job: Int64
    /// Which build this is (a reopened unit's older build is ignored when it lands).
    let serial: Int
    var state: State
}

/// Conditioning is built ahead: a task that needs some is ready for the scheduler only once
/// it is built (decision 0033), so a free worker takes a task it can start at once. The
/// coordinator builds the tasks ``Scheduler/awaitingConditioning(perJob:)`` names, a bounded
/// number at a time, and reports each with ``SchedulerEvent/conditioned(_:)``. A dispatch
/// without its conditioning at hand (a backup lease, or one forgotten meanwhile) waits,
/// parked, for a build of its own. What each worker's newest lease took is kept until the
/// task commits (``ConditioningEntry/State/leased(_:)``): one per worker, and one per task
/// whose lease was lost or failed until it runs again.
extension Coordinator {
    /// Conditionings of one job being built or built and waiting for their lease, at most:
    /// two per worker (every running slot and queued lease), and at least 64. The limit is
    /// each job's, so a job whose built tasks no worker takes (none can run them) never holds
    /// back another's builds.
    var preparedLimit: Int { max(64, 2 * scheduler.workerCount) }

    /// Starts building the conditioning of the next tasks awaiting it: for each job whose
    /// prepared conditionings are an eighth or more below the limit (so the scheduler's list is
    /// asked for in batches, not on every loop turn), up to the limit. A task back in the
    /// queue whose conditioning a lease kept needs no build: the scheduler hears at once that
    /// it is ready, and whatever that lets it lease is sent.
    func prepareAwaiting() {
        guard scheduler.hasTasksAwaitingConditioning else { return }
        let limit = preparedLimit
        let full = Set(preparedByJob.filter { $0.value > limit - max(1, limit / 8) }.keys)
        var kept: [Int64] = []
        for next in scheduler.awaitingConditioning(perJob: limit, skipping: full) {
            switch conditionings[next.task]?.state {
            case nil:
                guard preparedByJob[next.job, default: 0] < limit, let artifacts = jobArtifacts(next.job) else { continue }
                build(task: next.task, job: next.job, unit: next.unit, artifacts: artifacts, parked: nil)
            case .leased(let conditioning):
                // Back in the queue (its worker failed or went): what its lease took is ready.
                conditionings[next.task]?.state = .built(conditioning)
                preparedByJob[next.job, default: 0] += 1
                kept.append(next.task)
            case .building, .built:
                continue
            }
        }
        guard !kept.isEmpty else { return }
        metrics.eventTime = now()
        execute(scheduler.handle(.conditioned(kept), now: metrics.eventTime))
        dispatchDeferred()
    }

    /// Sends `dispatch` now if it needs no conditioning or has it built; else parks it until built.
    func dispatchWhenConditioned(_ dispatch: DeferredDispatch) -> DeferredDispatch? {
        guard let artifacts = jobArtifacts(dispatch.job), ConditioningPool.needsConditioning(unit: dispatch.unit, plan: artifacts.plan)
        else { return dispatch }
        let task = dispatch.assignment.lease.task
        switch conditionings[task]?.state {
        case .built(let conditioning), .leased(let conditioning):
            keep(conditioning, of: dispatch.assignment.lease, for: dispatch.worker)
            var ready = dispatch
            ready.conditioning = conditioning
            return ready
        case .building:
            // It may still be queued behind other builds ahead of time: it goes first now.
            conditionings[task]?.state = .building(parked: dispatch)
            conditioning.promote(task: task, serial: conditionings[task]!.serial)
        case nil:
            build(task: task, job: dispatch.job, unit: dispatch.unit, artifacts: artifacts, parked: dispatch)
        }
        return nil
    }

    /// Forgets `task`'s conditioning, keeping each job's count of prepared ones.
    func dropConditioning(_ task: Int64) {
        guard let entry = conditionings.removeValue(forKey: task) else { return }
        if case .leased = entry.state { return }
        uncountPrepared(job: entry.job)
    }

    /// Keeps what `worker`'s `lease` took, out of its job's prepared count. What its previous
    /// lease took goes if the worker still holds that one (it runs; the newest lease is the
    /// one that may be queued behind it, which an idle worker backs up first at a job's
    /// tail); a lease it no longer holds (failed, or lost) keeps its conditioning for the retry.
    private func keep(_ value: EncodedConditioning, of lease: LeaseRef, for worker: WorkerID) {
        guard let entry = conditionings[lease.task] else { return }
        if let previous = keptConditioning.updateValue(lease, forKey: worker), previous.task != lease.task,
            case .leased = conditionings[previous.task]?.state, scheduler.leaseHeld(by: worker, previous) != nil
        {
            conditionings[previous.task] = nil
        }
        if case .leased = entry.state { return }
        conditionings[lease.task]?.state = .leased(value)
        uncountPrepared(job: entry.job)
    }

    private func uncountPrepared(job: Int64) {
        preparedByJob[job, default: 1] -= 1
        if preparedByJob[job] == 0 { preparedByJob[job] = nil }
    }

    private func build(task: Int64, job: Int64, unit: Int, artifacts: JobArtifacts, parked: DeferredDispatch?) {
        conditioningSerial += 1
        conditionings[task] = ConditioningEntry(job: job, serial: conditioningSerial, state: .building(parked: parked))
        preparedByJob[job, default: 0] += 1
        conditioning.submit(
            ConditioningPool.Request(task: task, unit: unit, serial: conditioningSerial, artifacts: artifacts), urgent: parked != nil)
    }

    /// Takes what the pool built: a parked dispatch goes out if its lease still stands (the
    /// worker may have gone, or the job stopped, meanwhile); the rest is reported to the
    /// scheduler, which leases it when a worker is free.
    func collectConditioning() {
        var ready: [DeferredDispatch] = []
        var failed: [(LeaseRef, ReelError)] = []
        var conditioned: [Int64] = []
        for built in conditioning.takeBuilt() {
            metrics.conditioned(seconds: built.seconds)
            options.prometheus?.conditioned(buildSeconds: built.seconds)
            guard let entry = conditionings[built.task], entry.serial == built.serial, case .building(let parked) = entry.state else { continue }
            switch (built.result, parked) {
            case (.success(let value), nil):
                conditionings[built.task]?.state = .built(value)
                conditioned.append(built.task)
            case (.success(let value), var dispatch?):
                keep(value, of: dispatch.assignment.lease, for: dispatch.worker)
                guard scheduler.leaseHeld(by: dispatch.worker, dispatch.assignment.lease) != nil else { continue }
                dispatch.conditioning = value
                ready.append(dispatch)
            case (.failure, nil):
                // Built again at dispatch, where a failure is the task's.
                dropConditioning(built.task)
                conditioned.append(built.task)
            case (.failure(let error), let dispatch?):
                dropConditioning(built.task)
                if scheduler.leaseHeld(by: dispatch.worker, dispatch.assignment.lease) != nil { failed.append((dispatch.assignment.lease, error)) }
            }
        }
        send(ready, failed: failed)
        guard !conditioned.isEmpty else { return }
        // The tasks became dispatchable now: their dispatch latency runs from here.
        metrics.eventTime = now()
        execute(scheduler.handle(.conditioned(conditioned), now: metrics.eventTime))
    }

    /// Forgets a job's prepared conditionings (it stopped, or some of its committed units were
    /// reopened); a dispatch parked on one is built again from what is committed now.
    func forgetConditioning(job: Int64) {
        var parked: [DeferredDispatch] = []
        for (task, entry) in conditionings where entry.job == job {
            if case .building(let dispatch?) = entry.state { parked.append(dispatch) }
            dropConditioning(task)
        }
        send(parked.compactMap(dispatchWhenConditioned), failed: [])
    }
}
