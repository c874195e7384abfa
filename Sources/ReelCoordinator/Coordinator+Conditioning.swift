import Foundation
import ReelCore
import ReelStore
import ReelWire

/// A task's conditioning as the coordinator tracks it between the pool and the socket.
struct ConditioningEntry {
    enum State {
        /// On the pool; `parked`: a dispatch waiting for it.
        case building(parked: DeferredDispatch?)
        case built(Conditioning)
    }

    let job: Int64
    /// Which build this is (a reopened unit's older build is ignored when it lands).
    let serial: Int
    var state: State
}

/// Conditioning is built ahead, as soon as a task's last dependency commits, so the task goes
/// out at once when a worker frees (decision 0026); a task dispatched before its build lands
/// waits for it, parked, and one never prepared is built at dispatch.
extension Coordinator {
    /// Prepared conditionings waiting for their dispatch, at most: two per worker, and at least 64.
    var preparedLimit: Int { max(64, 2 * scheduler.workerCount) }

    /// Starts building `task`'s conditioning ahead of its dispatch, unless enough are waiting.
    func prepareConditioning(task: Int64, job: Int64, unit: Int) {
        guard conditionings[task] == nil, conditionings.count < preparedLimit, let artifacts = jobArtifacts(job),
            ConditioningPool.needsConditioning(unit: unit, plan: artifacts.plan)
        else { return }
        build(task: task, job: job, unit: unit, artifacts: artifacts, parked: nil)
    }

    /// Keeps the next tasks dispatch will hand out built ahead: once fewer than half the limit
    /// are prepared, starts the builds of each running job's next ready tasks (a job whose
    /// tasks were all released at once, as rolling mode's chunks are by the keyframes' commit,
    /// would otherwise have only its first few prepared).
    func topUpPrepared() {
        guard conditionedDispatches, conditionings.count < preparedLimit / 2, !scheduler.pending.isEmpty else { return }
        conditionedDispatches = false
        for next in scheduler.upcoming(perJob: preparedLimit) {
            guard conditionings.count < preparedLimit else { return }
            prepareConditioning(task: next.task, job: next.job, unit: next.unit)
        }
    }

    /// Sends `dispatch` now if it needs no conditioning or has it built; else parks it until built.
    func dispatchWhenConditioned(_ dispatch: DeferredDispatch) -> DeferredDispatch? {
        guard let artifacts = jobArtifacts(dispatch.job), ConditioningPool.needsConditioning(unit: dispatch.unit, plan: artifacts.plan)
        else { return dispatch }
        let task = dispatch.assignment.lease.task
        conditionedDispatches = true
        switch conditionings[task]?.state {
        case .built(let conditioning):
            conditionings[task] = nil
            var ready = dispatch
            ready.assignment.conditioning = conditioning
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

    private func build(task: Int64, job: Int64, unit: Int, artifacts: JobArtifacts, parked: DeferredDispatch?) {
        conditioningSerial += 1
        conditionings[task] = ConditioningEntry(job: job, serial: conditioningSerial, state: .building(parked: parked))
        conditioning.submit(
            ConditioningPool.Request(task: task, unit: unit, serial: conditioningSerial, artifacts: artifacts), urgent: parked != nil)
    }

    /// Takes what the pool built: a parked dispatch goes out if its lease still stands (the
    /// worker may have gone, or the job stopped, meanwhile); the rest waits for its dispatch.
    func collectConditioning() {
        var ready: [DeferredDispatch] = []
        var failed: [(LeaseRef, ReelError)] = []
        for built in conditioning.takeBuilt() {
            metrics.conditioned(seconds: built.seconds)
            guard let entry = conditionings[built.task], entry.serial == built.serial, case .building(let parked) = entry.state else { continue }
            switch (built.result, parked) {
            case (.success(let value), nil):
                conditionings[built.task]?.state = .built(value)
            case (.success(let value), var dispatch?):
                conditionings[built.task] = nil
                guard scheduler.leaseHeld(by: dispatch.worker, dispatch.assignment.lease) != nil else { continue }
                dispatch.assignment.conditioning = value
                ready.append(dispatch)
            case (.failure, nil):
                // Built again at dispatch, where a failure is the task's.
                conditionings[built.task] = nil
            case (.failure(let error), let dispatch?):
                conditionings[built.task] = nil
                if scheduler.leaseHeld(by: dispatch.worker, dispatch.assignment.lease) != nil { failed.append((dispatch.assignment.lease, error)) }
            }
        }
        send(ready, failed: failed)
    }

    /// Forgets a job's prepared conditionings (it stopped, or some of its committed units were
    /// reopened); a dispatch parked on one is built again from what is committed now.
    func forgetConditioning(job: Int64) {
        var parked: [DeferredDispatch] = []
        for (task, entry) in conditionings where entry.job == job {
            if case .building(let dispatch?) = entry.state { parked.append(dispatch) }
            conditionings[task] = nil
        }
        send(parked.compactMap(dispatchWhenConditioned), failed: [])
    }
}
