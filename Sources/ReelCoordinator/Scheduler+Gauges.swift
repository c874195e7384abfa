import ReelCore

/// How much work the farm holds at one moment, for monitoring and autoscaling.
public struct FarmGauges: Sendable, Equatable {
    /// Jobs the scheduler holds, by state (finished jobs leave it).
    public var jobs: [JobState: Int] = [:]
    /// Tasks ready to go out now (dependencies committed, job running), or once their conditioning is built.
    public var readyTasks = 0
    /// Tasks held by workers (queued at them or being sampled).
    public var leasedTasks = 0
    /// Uncommitted tasks of running jobs: ready, leased, or waiting for their dependencies.
    public var outstandingTasks = 0
    public var workers = 0
    /// Workers holding at least one lease.
    public var busyWorkers = 0
    /// Ready and leased tasks by stage.
    public var readyByStage: [TaskStage: Int] = [:]
    public var leasedByStage: [TaskStage: Int] = [:]

    public init() {}
}

extension Scheduler {
    /// Uncommitted tasks of running jobs (what HEARTBEAT tells workers: the farm has work).
    var outstandingTasks: UInt32 {
        UInt32(clamping: jobs.values.reduce(0) { $0 + ($1.state == .running ? $1.remaining : 0) })
    }

    /// The farm's gauges: one pass over the resident tasks and the workers.
    public var gauges: FarmGauges {
        var gauges = FarmGauges()
        for job in jobs.values {
            gauges.jobs[job.state, default: 0] += 1
            if job.state == .running { gauges.outstandingTasks += job.remaining }
        }
        gauges.readyTasks = pending.count + awaiting.count
        for id in pending + awaiting { if let stage = tasks[id]?.stage { gauges.readyByStage[stage, default: 0] += 1 } }
        for task in tasks.values where task.phase == .leased {
            gauges.leasedTasks += 1
            gauges.leasedByStage[task.stage, default: 0] += 1
        }
        gauges.workers = workers.count
        gauges.busyWorkers = workers.all.values.reduce(0) { $0 + ($1.leases.isEmpty ? 0 : 1) }
        return gauges
    }
}
