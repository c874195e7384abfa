import Foundation
import ReelCore
import ReelStore
import ReelZMQ

/// Results on their way to disk, and what became of each.
struct CommitGroup: Sendable {
    var commits: [DeferredCommit]
    /// Per commit: `.committed`, or `.commitFailed` with the reason; filled by the committer.
    var outcomes: [SchedulerEvent] = []
    /// Per commit: where its bytes are, once committed.
    var locations: [ArtifactLocation?] = []
}

/// Makes results durable on a thread of its own (decision 0012), so the coordinator's
/// thread keeps receiving and dispatching and never waits for the disk. For everything
/// queued while it worked, in order: appends the bytes to their jobs' segment files and
/// flushes them (one `fdatasync` per job touched), commits the rows in one transaction that
/// does not wait for the disk, then flushes the database's log once. Bytes are durable
/// before a row can be, and a row is durable before the coordinator hears of it: only then
/// does it ACK. A finished group waits in ``takeFinished()``; a message on ``wakeup`` wakes
/// the coordinator's poll.
final class ResultCommitter: @unchecked Sendable {
    /// The coordinator's end of the wake-up pair: poll it beside the router and drain it.
    let wakeup: ZMQSocket
    private let segments: SegmentWriter
    private let store: Store
    private let signal: ZMQSocket
    private let condition = NSCondition()
    private var queued: [CommitGroup] = []
    private var finished: [CommitGroup] = []
    private var working = false
    private var stopping = false
    private let exited = DispatchSemaphore(value: 0)

    /// Starts the committer's thread; `context` must outlive it.
    init(segments: SegmentWriter, store: Store, context: ZMQContext) throws {
        self.segments = segments
        self.store = store
        let endpoint = "inproc://reel-committer-\(UUID().uuidString)"
        wakeup = try ZMQSocket(context, .pair)
        try wakeup.bind(endpoint)
        signal = try ZMQSocket(context, .pair)
        try signal.connect(endpoint)
        let thread = Thread { [self] in loop() }
        thread.name = "reel-commit"
        thread.start()
    }

    /// Queues results for the disk.
    func submit(_ group: CommitGroup) {
        condition.lock()
        queued.append(group)
        condition.signal()
        condition.unlock()
    }

    /// Groups whose results are durable (or failed), oldest first.
    func takeFinished() -> [CommitGroup] {
        condition.lock()
        defer { condition.unlock() }
        let groups = finished
        finished = []
        return groups
    }

    /// Whether any group is queued, being worked on, or finished and not yet taken.
    var hasWork: Bool {
        condition.lock()
        defer { condition.unlock() }
        return working || !queued.isEmpty || !finished.isEmpty
    }

    /// Waits until every submitted group is finished.
    func waitUntilIdle() {
        condition.lock()
        while working || !queued.isEmpty { condition.wait() }
        condition.unlock()
    }

    /// Finishes what is queued, then ends the thread.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
        exited.wait()
    }

    private func loop() {
        while true {
            condition.lock()
            while queued.isEmpty && !stopping { condition.wait() }
            if queued.isEmpty {
                condition.unlock()
                break
            }
            var groups = queued
            queued = []
            working = true
            condition.unlock()

            commit(&groups)
            condition.lock()
            finished += groups
            working = false
            condition.broadcast()
            condition.unlock()
            // A full pipe only means the coordinator already has a wake-up waiting.
            _ = try? signal.send([[1]])
        }
        signal.close()
        exited.signal()
    }

    private func commit(_ groups: inout [CommitGroup]) {
        let commits = groups.flatMap(\.commits)
        var outcomes = [SchedulerEvent?](repeating: nil, count: commits.count)
        var locations = [ArtifactLocation?](repeating: nil, count: commits.count)
        var rows: [Store.Commit] = []
        var rowOwners: [Int] = []
        for (index, written) in segments.append(commits.map { (job: $0.job, bytes: $0.latents) }).enumerated() {
            let commit = commits[index]
            switch written {
            case .failure(let error):
                outcomes[index] = .commitFailed(commit.lease, reason: error.message, diskFull: error.code == .diskFull)
            case .success(let location):
                locations[index] = location
                rows.append(
                    Store.Commit(
                        task: commit.lease.task, attempt: Int(commit.lease.attempt), worker: commit.worker,
                        checksum: Checksum.hex(commit.checksum), artifact: location.description))
                rowOwners.append(index)
            }
        }
        do {
            let committed = try store.commitResults(rows, now: Date().timeIntervalSince1970, waitForDisk: false)
            if !rows.isEmpty { try syncLogPatiently() }
            for (owner, done) in zip(rowOwners, committed) {
                outcomes[owner] =
                    done
                    ? .committed(commits[owner].lease)
                    : .commitFailed(commits[owner].lease, reason: "the store no longer holds this lease", diskFull: false)
            }
        } catch {
            let error = error as? ReelError ?? ReelError(.store, "\(error)")
            for owner in rowOwners {
                outcomes[owner] = .commitFailed(commits[owner].lease, reason: error.message, diskFull: error.code == .diskFull)
            }
        }
        var position = 0
        for index in groups.indices {
            let range = position..<(position + groups[index].commits.count)
            groups[index].outcomes = outcomes[range].map { $0! }
            groups[index].locations = Array(locations[range])
            groups[index].commits = groups[index].commits.map(\.withoutLatents)
            position = range.upperBound
        }
    }

    /// Flushes the log, trying again (up to 30 s) while the disk refuses: rows already
    /// committed must become durable before anyone hears of them.
    private func syncLogPatiently() throws {
        var delay = 0.01
        var waited = 0.0
        while true {
            do { return try store.syncLog() } catch {
                guard waited < 30 else { throw error }
                Thread.sleep(forTimeInterval: delay)
                waited += delay
                delay = min(1, delay * 2)
            }
        }
    }
}
