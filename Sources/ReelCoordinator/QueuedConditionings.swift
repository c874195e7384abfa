import ReelCore

/// The conditioning of tasks sent to wait in a worker's queue, kept while they wait: an idle
/// worker is given a backup of such a task first (often many at once at a job's end), and
/// the backup then goes out without a build. One entry per queued lease, so at most the
/// workers' prefetch depth in all.
struct QueuedConditionings {
    private var byTask: [Int64: (job: Int64, worker: WorkerID, conditioning: Conditioning)] = [:]
    private var byWorker: [WorkerID: Set<Int64>] = [:]

    var count: Int { byTask.count }

    mutating func keep(task: Int64, job: Int64, worker: WorkerID, _ conditioning: Conditioning) {
        byTask[task] = (job, worker, conditioning)
        byWorker[worker, default: []].insert(task)
    }

    func conditioning(task: Int64) -> Conditioning? { byTask[task]?.conditioning }

    /// `worker` delivered a result: what waited in its queue now runs (or is gone).
    mutating func advanced(_ worker: WorkerID) {
        for task in byWorker.removeValue(forKey: worker) ?? [] { byTask[task] = nil }
    }

    mutating func forget(job: Int64) {
        for (task, entry) in byTask where entry.job == job {
            byTask[task] = nil
            byWorker[entry.worker]?.remove(task)
        }
    }
}
