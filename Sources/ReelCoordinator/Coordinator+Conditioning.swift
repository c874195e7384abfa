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
/// parked, for a build of its own.
extension Coordinator {
    /// Conditionings of one job being built or built and waiting for their dispatch, at most:
    /// two per worker (every running slot and queued lease), and at least 64. The limit is
    /// each job's, so a job whose built tasks no worker takes (none can run them) never holds
    /// back another's builds.
    var preparedLimit: Int { max(64, 2 * scheduler.workerCount) }

    /// Starts building the conditioning of the next tasks awaiting it: for each job whose
    /// prepared conditionings are an eighth or more below the limit (so the scheduler's list is
    /// asked for in batches, not on every loop turn), up to the limit.
    func prepareAwaiting() {
        guard scheduler.hasTasksAwaitingConditioning else { return }
        let limit = preparedLimit
        let full = Set(preparedByJob.filter { $0.value > limit - max(1, limit / 8) }.keys)
        for next in scheduler.awaitingConditioning(perJob: limit, skipping: full) where conditionings[next.task] == nil {
            guard preparedByJob[next.job, default: 0] < limit, let artifacts = jobArtifacts(next.job) else { continue }
            build(task: next.task, job: next.job, unit: next.unit, artifacts: artifacts, parked: nil)
        }
    }

    /// Sends `dispatch` now if it needs no conditioning or has it built; else parks it until built.
    func dispatchWhenConditioned(_ dispatch: DeferredDispatch) -> DeferredDispatch? {
        guard let artifacts = jobArtifacts(dispatch.job), ConditioningPool.needsConditioning(unit: dispatch.unit, plan: artifacts.plan)
        else { return dispatch }
        let task = dispatch.assignment.lease.task
        switch conditionings[task]?.state {
        case .built(let conditioning):
            dropConditioning(task)
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
    private func dropConditioning(_ task: Int64) {
        guard let entry = conditionings.removeValue(forKey: task) else { return }
        preparedByJob[entry.job, default: 1] -= 1
        if preparedByJob[entry.job] == 0 { preparedByJob[entry.job] = nil }
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
            guard let entry = conditionings[built.task], entry.serial == built.serial, case .building(let parked) = entry.state else { continue }
            switch (built.result, parked) {
            case (.success(let value), nil):
                conditionings[built.task]?.state = .built(value)
                conditioned.append(built.task)
            case (.success(let value), var dispatch?):
                dropConditioning(built.task)
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
