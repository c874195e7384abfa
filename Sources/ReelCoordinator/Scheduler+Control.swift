import ReelCore
import ReelWire

/// Job-level transitions: pause, resume, cancel, fail.
extension Scheduler {
    mutating func control(_ job: Int64, _ action: JobControl) -> [SchedulerDirective] {
        guard let entry = jobs[job] else { return [.ignored("\(action.rawValue) for job \(job), which is not loaded")] }
        switch action {
        case .pause:
            guard entry.state == .running else { return [.ignored("pause of job \(job), which is \(entry.state.rawValue)")] }
            jobs[job]?.state = .paused
            jobs[job]?.pausedForSpace = false
            rebuildPending()
            return [.setJobState(job: job, .paused, reason: "paused by request")]
        case .resume:
            guard entry.state.isResumable else { return [.ignored("resume of job \(job), which is \(entry.state.rawValue)")] }
            return resume(job, reason: "resumed by request")
        case .cancel:
            guard entry.state == .running || entry.state == .paused || entry.state == .failed else {
                return [.ignored("cancel of job \(job), which is \(entry.state.rawValue)")]
            }
            stop(job, as: .cancelled)
            return [.setJobState(job: job, .cancelled, reason: "cancelled by request")]
        }
    }

    mutating func resume(_ job: Int64, reason: String) -> [SchedulerDirective] {
        guard var entry = jobs[job] else { return [] }
        // Failure counts start over; the blocklist stays (a worker that failed this job 3 times
        // is not trusted with it again just because it was resumed).
        entry.pausedForSpace = false
        for task in tasks.values where task.job == job && task.phase == .pending {
            tasks[task.id]?.failures = 0
            tasks[task.id]?.notBefore = 0
            tasks[task.id]?.avoid = []
            // The shell dropped a paused job's conditioning: each is built again before it runs.
            tasks[task.id]?.conditioned = false
        }
        jobs[job] = entry
        if entry.remaining == 0 { return startEncoding(job, reason: reason) }
        entry.state = .running
        entry.served = max(entry.served, leastServed(priority: entry.priority, excluding: job))
        jobs[job] = entry
        rebuildPending()
        return [.setJobState(job: job, .running, reason: reason)]
    }

    /// A job whose every task is committed (and that is not stopped) goes to `encoding`: the
    /// one place that happens, whether its last task just committed, it was resumed, or it was
    /// loaded so after a restart.
    public mutating func startEncoding(_ job: Int64, reason: String? = nil) -> [SchedulerDirective] {
        guard let entry = jobs[job], entry.remaining == 0, entry.state != .encoding else { return [] }
        jobs[job]?.state = .encoding
        jobs[job]?.pausedForSpace = false
        return [.setJobState(job: job, .encoding, reason: reason), .chunksComplete(job: job)]
    }

    /// The video is written: the job is done and leaves the scheduler.
    mutating func encodeFinished(_ job: Int64, _ checksums: OutputChecksums) -> [SchedulerDirective] {
        guard jobs[job]?.state == .encoding else { return [.ignored("encode of job \(job) finished, but it is not encoding")] }
        removeJob(job)
        return [.finishJob(job: job, checksums)]
    }

    /// The video could not be written (while the job renders, or after its last task): the
    /// job fails with the reason (resumable: a resume encodes again), or is paused until the
    /// disk has room.
    mutating func encodeFailed(_ job: Int64, reason: String, diskFull: Bool) -> [SchedulerDirective] {
        let why = "\(diskFull ? "disk full: " : "")encoding failed: \(reason)"
        switch jobs[job]?.state {
        case .encoding:
            jobs[job]?.state = diskFull ? .paused : .failed
            jobs[job]?.pausedForSpace = diskFull
            return [.setJobState(job: job, diskFull ? .paused : .failed, reason: why)]
        case .running:
            return diskFull ? pauseForSpace(job, reason: "encoding failed: \(reason)") : failJob(job, reason: why)
        case .paused:
            if diskFull { jobs[job]?.pausedForSpace = true }
            return [.setJobState(job: job, .paused, reason: why)]
        default:
            return [.ignored("encode of job \(job) failed, but it is \(jobs[job]?.state.rawValue ?? "not loaded")")]
        }
    }

    mutating func pauseForSpace(_ job: Int64, reason: String) -> [SchedulerDirective] {
        guard jobs[job]?.state == .running else { return [] }
        jobs[job]?.state = .paused
        jobs[job]?.pausedForSpace = true
        rebuildPending()
        return [.setJobState(job: job, .paused, reason: "disk full: \(reason)")]
    }

    mutating func failJob(_ job: Int64, reason: String) -> [SchedulerDirective] {
        stop(job, as: .failed)
        return [.setJobState(job: job, .failed, reason: reason)]
    }

    /// Stops dispatching a job; its leases are released (late results will be ignored).
    private mutating func stop(_ job: Int64, as state: JobState) {
        jobs[job]?.state = state
        jobs[job]?.pausedForSpace = false
        for task in tasks.values where task.job == job && task.phase == .leased {
            for (holder, holding) in task.holders { workers[holder]?.leases.remove(LeaseRef(task: task.id, attempt: holding.attempt)) }
            tasks[task.id]?.phase = .pending
            tasks[task.id]?.holders = [:]
        }
        rebuildPending()
    }
}
