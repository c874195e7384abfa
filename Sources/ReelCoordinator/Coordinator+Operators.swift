import Foundation
import ReelCore
import ReelWire

/// What one live worker has done since it joined.
struct WorkerTally: Sendable {
    let joinedAt: Double
    var tasksDone = 0
    var failures = 0
}

/// Serving operators on other threads (``OperatorChannel``): their requests run here, on the
/// coordinator's thread, through the same code as a ZeroMQ client's.
extension Coordinator {
    /// Answers the waiting requests and publishes a snapshot when one is due (or after a change).
    func serveOperators() {
        guard let channel = options.operatorChannel else { return }
        let requests = channel.take()
        let answers = requests.map { request -> WireMessage in
            let caller = Caller(name: request.identity.name, role: request.identity.admin ? .admin : .submitter)
            switch request.action {
            case .submit(let json): return submit(json, by: caller)
            case .control(let job, let action): return control(job, action, by: caller)
            }
        }
        let time = metrics.eventTime
        if !requests.isEmpty || time - lastSnapshotPublished >= OperatorChannel.publishInterval || time < lastSnapshotPublished {
            lastSnapshotPublished = time
            channel.publish(liveSnapshot(at: now()))
        }
        // Answered after the snapshot that shows their effect.
        for (request, answer) in zip(requests, answers) { request.reply(answer) }
    }

    /// The loaded jobs and live workers as the loop sees them now.
    func liveSnapshot(at time: Double) -> LiveSnapshot {
        var snapshot = LiveSnapshot(at: time, droppedMessages: droppedMessages)
        for job in plans.keys {
            guard let state = scheduler.state(job: job) else { continue }
            let progress = scheduler.progress(job: job)
            let unrecorded = unrecordedStates[job]
            snapshot.jobs[job] = LiveSnapshot.Job(
                state: unrecorded?.state ?? state, reason: unrecorded?.reason ?? scheduler.waitingReason(job: job),
                tasksDone: progress?.done ?? 0, tasksTotal: progress?.total ?? 0, framesEncoded: encoder.framesEncoded(job: job))
        }
        for (id, worker) in scheduler.liveWorkers {
            let tally = workerTallies[id] ?? WorkerTally(joinedAt: worker.lastSeen)
            snapshot.workers.append(
                LiveSnapshot.Worker(
                    id: id, backends: worker.hello.backends, models: worker.hello.models, device: worker.hello.device,
                    memoryMegabytes: worker.hello.memoryMegabytes, leases: worker.leases.map(\.task).sorted(),
                    tasksDone: tally.tasksDone, failures: tally.failures, joinedAt: tally.joinedAt, lastSeen: worker.lastSeen))
        }
        snapshot.workers.sort { $0.id < $1.id }
        return snapshot
    }
}
