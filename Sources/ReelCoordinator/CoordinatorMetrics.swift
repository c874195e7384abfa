import Glibc
import ReelWire

/// A result waiting to be committed with the others of its group.
struct DeferredCommit {
    let worker: WorkerID
    let lease: LeaseRef
    let job: Int64
    let chunk: Int
    let latents: [UInt8]
    let checksum: UInt64
    let sampleMilliseconds: UInt32
}

/// Results committed together: their artifacts made durable by ``SegmentAppender``, then
/// their rows in one transaction.
struct CommitGroup {
    let commits: [DeferredCommit]
    /// The commits handed to the appender, by index, in the order it appends them.
    var appended: [Int] = []
    /// Each commit's outcome, known once its group is durable (or at once, for a job no longer loaded).
    var outcomes: [SchedulerEvent?]

    init(commits: [DeferredCommit]) {
        self.commits = commits
        outcomes = Array(repeating: nil, count: commits.count)
    }
}

/// What the coordinator measures about itself: counts, its own CPU time, dispatch latency
/// (what made a task dispatchable to the task sent) and
/// round trip (a task sent to its result's ACK sent, durable commit included).
public struct CoordinatorMetrics: Sendable {
    public var messagesReceived = 0
    public var tasksDispatched = 0
    public var tasksCommitted = 0
    /// Group commits: each wrote a batch of artifacts with one flush and rows in one transaction.
    public var commitBatches = 0
    /// Sampler time the committed results reported (their workers' `sample_ms`), in seconds.
    public var samplerSeconds = 0.0
    /// CPU time of the coordinator's whole process while it served, in seconds: its own
    /// thread, the WAL checkpointer, libzmq's I/O thread (and encoding, when on).
    public var cpuSeconds = 0.0
    /// The part of `cpuSeconds` spent by the encode threads (stitch, decode, frame metrics),
    /// which run beside the render; ffmpeg's own process is not counted.
    public var encodeCPUSeconds = 0.0
    /// Seconds from what made a task dispatchable (the message that freed a worker's slot, or
    /// the group commit that completed its dependencies) to sending it, building its
    /// conditioning beside the loop included.
    public var dispatchLatencies: [Double] = []
    /// The same for a job's start, which fills every worker's slots and queue at once: its
    /// first tasks when it is submitted, and in rolling mode the chunks its keyframes' commit
    /// releases (every chunk waits on them). The last of such a burst waits for all before it.
    public var jobStartLatencies: [Double] = []
    /// Seconds spent building each task's conditioning on the ``ConditioningPool``'s threads.
    public var conditioningSeconds: [Double] = []
    /// Seconds from sending a task to sending the ACK of its committed result.
    public var roundTrips: [Double] = []
    /// When the message being handled arrived.
    var eventTime = 0.0
    var sentAt: [LeaseRef: Double] = [:]
    static let maxSamples = 1 << 20

    mutating func dispatched(_ lease: LeaseRef, at time: Double, requestedAt: Double, startsJob: Bool = false) {
        tasksDispatched += 1
        sentAt[lease] = time
        if startsJob {
            if jobStartLatencies.count < Self.maxSamples { jobStartLatencies.append(max(0, time - requestedAt)) }
        } else if dispatchLatencies.count < Self.maxSamples {
            dispatchLatencies.append(max(0, time - requestedAt))
        }
    }

    mutating func conditioned(seconds: Double) {
        if conditioningSeconds.count < Self.maxSamples { conditioningSeconds.append(seconds) }
    }

    /// Records the round trip of `lease` and returns it (nil for a lease not sent by this process).
    @discardableResult
    mutating func committed(_ lease: LeaseRef, at time: Double) -> Double? {
        guard let sent = sentAt.removeValue(forKey: lease) else { return nil }
        if roundTrips.count < Self.maxSamples { roundTrips.append(time - sent) }
        return time - sent
    }

    mutating func forget(_ lease: LeaseRef) { sentAt[lease] = nil }

    /// This process's CPU time (all threads) in seconds.
    public static func processCPUSeconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    /// The calling thread's CPU time in seconds.
    public static func threadCPUSeconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    /// The `fraction` quantile (0-1) of `samples`, nil when there are none.
    public static func quantile(_ samples: [Double], _ fraction: Double) -> Double? {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * fraction).rounded()))]
    }
}
