import ReelCore
import ReelWire
import Testing

@testable import ReelCoordinator

@Suite struct SchedulerTests {
    static let work = ChunkWork(
        backend: .procedural, prompt: "p", seed: 1, steps: 4, shift: 3,
        grid: LatentGrid(frames: 10, channels: 3, height: 32, width: 32), region: Region(frames: 0..<10, rows: 0..<32, columns: 0..<32))
    static let hello = WorkerHello(name: "a", backends: ["procedural"], slots: 1, memoryMegabytes: 1, tags: [])

    func scheduler(tasks: Int = 3) -> Scheduler {
        var scheduler = Scheduler(
            timings: SchedulerTimings(
                heartbeatSeconds: 1, workerTimeoutSeconds: 5, leaseSeconds: 30, maxFailures: 2, retryBackoffSeconds: 0, prefetch: 0))
        scheduler.addJob(1, tasks: (0..<tasks).map { StoredTask(id: Int64(100 + $0), chunk: $0, work: Self.work, done: false) }, now: 0)
        return scheduler
    }

    func dispatched(_ directives: [SchedulerDirective]) -> [(WorkerID, LeaseRef)] {
        directives.compactMap { if case .dispatch(let w, let a, _, _, _) = $0 { return (w, a.lease) } else { return nil } }
    }

    @Test func readyWorkersGetTasksInOrderOnePerSlot() {
        var s = scheduler()
        let first = dispatched(s.handle(.workerReady("a", Self.hello), now: 0))
        #expect(first.map(\.1) == [LeaseRef(task: 100, attempt: 1)])
        var two = Self.hello
        two.slots = 2
        let second = dispatched(s.handle(.workerReady("b", two), now: 0))
        #expect(second.map(\.1.task) == [101, 102])
        #expect(dispatched(s.handle(.tick, now: 0.5)).isEmpty, "no free slot, nothing pending")
    }

    @Test func resultIsCommittedThenAckedAndCompletesTheJob() {
        var s = scheduler(tasks: 1)
        _ = s.handle(.workerReady("a", Self.hello), now: 0)
        let lease = LeaseRef(task: 100, attempt: 1)
        let onResult = s.handle(.resultArrived("a", lease), now: 1)
        #expect(onResult.contains(.commit("a", lease, job: 1, chunk: 0)))
        #expect(!onResult.contains(.send("a", .ack(lease))), "no ACK before the commit returns")
        let onCommit = s.handle(.committed(lease), now: 1)
        #expect(onCommit.contains(.send("a", .ack(lease))))
        #expect(onCommit.contains(.chunksComplete(job: 1)))
        #expect(s.progress(job: 1)! == (1, 1))
    }

    /// Encoding's end is a scheduler event like any other transition: a failure fails the job
    /// (resumable: the resume encodes again), a success finishes it with its checksums.
    @Test func encodeOutcomesAreTransitionsOfTheScheduler() {
        var s = scheduler(tasks: 1)
        _ = s.handle(.workerReady("a", Self.hello), now: 0)
        let lease = LeaseRef(task: 100, attempt: 1)
        _ = s.handle(.resultArrived("a", lease), now: 1)
        #expect(s.handle(.committed(lease), now: 1).contains(.setJobState(job: 1, .encoding, reason: nil)))
        let failed = s.handle(.encodeFailed(job: 1, reason: "ffmpeg exited", diskFull: false), now: 2)
        #expect(failed == [.setJobState(job: 1, .failed, reason: "encoding failed: ffmpeg exited")])
        #expect(s.state(job: 1) == .failed)
        let resumed = s.handle(.control(job: 1, .resume), now: 3)
        #expect(resumed.contains(.chunksComplete(job: 1)) && s.state(job: 1) == .encoding)
        let full = s.handle(.encodeFailed(job: 1, reason: "no space", diskFull: true), now: 4)
        #expect(full == [.setJobState(job: 1, .paused, reason: "disk full: encoding failed: no space")])
        #expect(s.handle(.spaceAvailable, now: 5).contains(.chunksComplete(job: 1)))
        let checksums = OutputChecksums(latents: "aa", frames: "bb")
        #expect(s.handle(.encodeFinished(job: 1, checksums), now: 6) == [.finishJob(job: 1, checksums)])
        #expect(s.state(job: 1) == nil, "a done job leaves the scheduler")
        #expect(s.handle(.encodeFinished(job: 1, checksums), now: 7).allSatisfy { if case .ignored = $0 { true } else { false } })
    }

    @Test func staleDuplicateForeignAndUnknownResultsAreIgnored() {
        var s = scheduler(tasks: 1)
        _ = s.handle(.workerReady("a", Self.hello), now: 0)
        _ = s.handle(.workerReady("b", Self.hello), now: 0)
        let lease = LeaseRef(task: 100, attempt: 1)
        func ignored(_ d: [SchedulerDirective]) -> Bool { d.contains { if case .ignored = $0 { true } else { false } } }
        // Each is ignored, and its sender told to forget it (a revoke), but for the winner's
        // duplicate of a result being committed: an ack is coming.
        func revoked(_ d: [SchedulerDirective], _ worker: WorkerID, _ lease: LeaseRef) -> Bool {
            ignored(d) && d.contains(.send(worker, .revoke(lease)))
        }
        #expect(revoked(s.handle(.resultArrived("b", lease), now: 1), "b", lease), "from a worker that does not hold the lease")
        let wrong = LeaseRef(task: 100, attempt: 7), unknown = LeaseRef(task: 999, attempt: 1)
        #expect(revoked(s.handle(.resultArrived("a", wrong), now: 1), "a", wrong), "wrong attempt")
        #expect(revoked(s.handle(.resultArrived("a", unknown), now: 1), "a", unknown), "never-assigned task")
        _ = s.handle(.resultArrived("a", lease), now: 1)
        let duplicate = s.handle(.resultArrived("a", lease), now: 1)
        #expect(ignored(duplicate) && !duplicate.contains(.send("a", .revoke(lease))), "duplicate while committing: \(duplicate)")
        _ = s.handle(.committed(lease), now: 1)
        #expect(revoked(s.handle(.resultArrived("a", lease), now: 2), "a", lease), "duplicate after commit")
    }

    @Test func silentWorkerIsDroppedAndItsTaskRunsElsewhereUnderANewAttempt() {
        var s = scheduler(tasks: 1)
        _ = s.handle(.workerReady("a", Self.hello), now: 0)
        _ = s.handle(.workerReady("b", Self.hello), now: 1)
        _ = s.handle(.heartbeat("b"), now: 5.5)
        let expiry = s.handle(.tick, now: 5.5)
        #expect(expiry.contains(.requeue(task: 100, reason: "worker a went silent")))
        #expect(dispatched(expiry).map { $0.0 } == ["b"])
        #expect(dispatched(expiry).first?.1 == LeaseRef(task: 100, attempt: 2))
        #expect(s.workerCount == 1)
        let late = s.handle(.resultArrived("a", LeaseRef(task: 100, attempt: 1)), now: 6)
        #expect(late.contains { if case .ignored = $0 { true } else { false } }, "the old attempt is stale")
        #expect(late.contains(.send("a", .disconnect(reason: "unknown worker: send READY"))) == false, "stale results change nothing")
    }

    /// Decision 0036: the coordinator heartbeats a worker holding no lease `Liveness.idleFactor`
    /// times less often, and waits that much longer before it counts one as gone.
    @Test func anIdleWorkerIsHeartbeatAndWaitedForLessOftenThanABusyOne() {
        var s = scheduler(tasks: 1)
        _ = s.handle(.workerReady("busy", Self.hello), now: 0)
        _ = s.handle(.workerReady("idle", Self.hello), now: 0)
        let factor = Liveness.idleFactor, span = 4 * factor
        var sent: [WorkerID: Int] = [:]
        for t in stride(from: 0.25, through: span, by: 0.25) {
            if t == t.rounded() { _ = s.handle(.heartbeat("busy"), now: t) }
            for case .send(let worker, .heartbeat) in s.handle(.tick, now: t) { sent[worker, default: 0] += 1 }
        }
        #expect(sent["busy"] == Int(span) && sent["idle"] == 4, "heartbeats sent in \(span) s: \(sent)")
        #expect(s.isHeard("busy", now: span) && s.isHeard("idle", now: 2 * factor) && !s.isHeard("idle", now: 2 * factor + 0.5))
        // Silent since it joined at 0: still there just before the idle bound (factor x the 5 s
        // timeout), gone just past it.
        let bound = 5 * factor
        _ = s.handle(.heartbeat("busy"), now: bound - 0.5)
        #expect(!s.handle(.tick, now: bound - 0.5).contains { if case .log(let line) = $0 { line.hasPrefix("worker idle silent") } else { false } })
        _ = s.handle(.heartbeat("busy"), now: bound + 0.5)
        #expect(s.handle(.tick, now: bound + 0.5).contains(.log(String(format: "worker idle silent for %.1f s: dropped", bound + 0.5))))
        #expect(s.workerCount == 1)
    }

    /// Decision 0052: the idle workers are looked at (for silence, for a due heartbeat) once a
    /// heartbeat, not every period, so one silent past its bound goes at the first look after it;
    /// a busy worker is looked at every period.
    @Test func idleWorkersAreLookedAtOnceAHeartbeatAndBusyOnesEveryPeriod() {
        var s = scheduler(tasks: 1)
        #expect(dispatched(s.handle(.workerReady("busy", Self.hello), now: 0)).map(\.0) == ["busy"])
        _ = s.handle(.workerReady("idle", Self.hello), now: 0)
        func dropped(_ worker: WorkerID, at time: Double) -> Bool {
            s.handle(.tick, now: time).contains { if case .log(let line) = $0 { line.hasPrefix("worker \(worker) silent") } else { false } }
        }
        let bound = 5 * Liveness.idleFactor
        _ = s.handle(.heartbeat("busy"), now: bound - 0.5)
        #expect(!dropped("idle", at: bound - 0.5), "looked at, not yet past its bound")
        _ = s.handle(.heartbeat("busy"), now: bound + 0.1)
        #expect(!dropped("idle", at: bound + 0.1), "past its bound, but looked at 0.6 s ago")
        #expect(dropped("idle", at: bound + 0.5), "the next look, a heartbeat after the last")
        // The busy worker, silent since bound + 0.1, goes at the first period past its 5 s timeout.
        #expect(!dropped("busy", at: bound + 5))
        #expect(dropped("busy", at: bound + 5.2), "0.2 s after the last look at the idle ones")
        #expect(s.workerCount == 0)
    }

    /// An idle worker is heartbeated only every few seconds, but at once when the farm gets work
    /// or runs out of it: a worker that leaves when idle must not leave as a job arrives.
    @Test func anIdleWorkerIsToldAtOnceWhenTheFarmGetsWork() {
        var s = Scheduler(timings: SchedulerTimings(heartbeatSeconds: 1, workerTimeoutSeconds: 5, leaseSeconds: 30, prefetch: 0))
        func heartbeats(_ directives: [SchedulerDirective]) -> [UInt32] {
            directives.compactMap { if case .send("idle", .heartbeat(_, let outstanding)) = $0 { outstanding } else { nil } }
        }
        #expect(heartbeats(s.handle(.workerReady("idle", Self.hello), now: 0)) == [0])
        #expect(heartbeats(s.handle(.tick, now: 1.5)).isEmpty, "idle: not due for \(Liveness.idleFactor) s")
        // Work it cannot run (another backend), so it stays idle.
        var simulated = Self.work
        simulated.backend = .simulated
        s.addJob(1, tasks: [StoredTask(id: 100, chunk: 0, work: simulated, done: false)], now: 2)
        #expect(heartbeats(s.handle(.tick, now: 2.1)) == [1], "told at once that the farm has work")
        #expect(heartbeats(s.handle(.tick, now: 2.2)).isEmpty)
        _ = s.handle(.control(job: 1, .cancel), now: 3)
        #expect(heartbeats(s.handle(.tick, now: 3.1)) == [0], "and at once that it has none")
    }

    /// A task handed to a worker that has been idle and quiet has the whole worker timeout from
    /// the lease to be heard from, not what is left of it since the worker's last heartbeat.
    @Test func aWorkerLeasedAfterAQuietIdleSpellHasTheWholeTimeoutFromItsLease() {
        var s = scheduler(tasks: 1)
        _ = s.handle(.workerReady("busy", Self.hello), now: 0)
        _ = s.handle(.workerReady("idle", Self.hello), now: 0)
        for t in stride(from: 1.0, through: 12, by: 1) { _ = s.handle(.heartbeat("busy"), now: t) }
        _ = s.handle(.heartbeat("idle"), now: 3)
        s.addJob(2, tasks: [StoredTask(id: 200, chunk: 0, work: Self.work, done: false)], now: 6)
        #expect(dispatched(s.handle(.tick, now: 6)).map(\.0) == ["idle"])
        #expect(!s.handle(.tick, now: 10.5).contains { if case .requeue = $0 { true } else { false } }, "8.5 s after it was heard")
        let expired = s.handle(.tick, now: 11.5)
        #expect(expired.contains(.requeue(task: 200, reason: "worker idle went silent")), "5.5 s after its lease")
    }

    /// A lease restored from the store whose holder never comes back expires by the scan of
    /// every resident task, which runs at most once a second (it copies thousands of tasks).
    @Test func aRestoredLeaseWhoseHolderNeverReturnsExpiresByAScanAtMostOnceASecond() {
        var s = Scheduler(timings: SchedulerTimings(heartbeatSeconds: 1, workerTimeoutSeconds: 5, leaseSeconds: 30, prefetch: 0))
        s.addJob(1, tasks: [StoredTask(id: 100, chunk: 0, work: Self.work, done: false, attempt: 1, leasedTo: "gone")], now: 0)
        func requeued(_ directives: [SchedulerDirective]) -> Bool {
            directives.contains(.requeue(task: 100, reason: "lease of gone expired"))
        }
        #expect(!requeued(s.handle(.tick, now: 29.9)), "its lease runs 30 s")
        #expect(!requeued(s.handle(.tick, now: 30.5)), "expired, but the last scan was 0.6 s ago")
        #expect(requeued(s.handle(.tick, now: 30.95)), "the next scan, a second after the last")
    }

    @Test func heartbeatsKeepLeasesAliveAndUnknownWorkersAreToldToAnnounce() {
        var s = scheduler(tasks: 1)
        _ = s.handle(.workerReady("a", Self.hello), now: 0)
        for t in stride(from: 1.0, through: 40, by: 1) { _ = s.handle(.heartbeat("a"), now: t) }
        #expect(!s.handle(.tick, now: 40).contains { if case .requeue = $0 { true } else { false } }, "renewed lease does not expire")
        #expect(s.handle(.heartbeat("ghost"), now: 40).contains(.send("ghost", .disconnect(reason: "unknown worker: send READY"))))
    }

    @Test func repeatedFailuresFailTheJob() {
        var s = scheduler(tasks: 1)
        _ = s.handle(.workerReady("a", Self.hello), now: 0)
        let first = s.handle(.taskFailed("a", LeaseRef(task: 100, attempt: 1), reason: "boom"), now: 1)
        #expect(first.contains(.requeue(task: 100, reason: "worker a failed it: boom")))
        #expect(dispatched(first).first?.1 == LeaseRef(task: 100, attempt: 2))
        let second = s.handle(.taskFailed("a", LeaseRef(task: 100, attempt: 2), reason: "boom"), now: 2)
        #expect(second.contains(.setJobState(job: 1, .failed, reason: "chunk 0 failed 2 times; last on a: boom")))
        #expect(dispatched(second).isEmpty)
    }

    @Test func restoredLeasesAreReadoptedByTheirHolder() {
        var s = Scheduler()
        s.addJob(
            1,
            tasks: [
                StoredTask(id: 100, chunk: 0, work: Self.work, done: false, attempt: 3, leasedTo: "a"),
                StoredTask(id: 101, chunk: 1, work: Self.work, done: true, attempt: 1),
            ], now: 0)
        // The holder comes back after a coordinator restart: it keeps its lease, and may deliver.
        var holder = Self.hello
        holder.holding = [LeaseRef(task: 100, attempt: 3)]
        #expect(dispatched(s.handle(.workerReady("a", holder), now: 1)).isEmpty)
        let result = s.handle(.resultArrived("a", LeaseRef(task: 100, attempt: 3)), now: 2)
        #expect(result.contains(.commit("a", LeaseRef(task: 100, attempt: 3), job: 1, chunk: 0)))
        #expect(s.handle(.committed(LeaseRef(task: 100, attempt: 3)), now: 2).contains(.chunksComplete(job: 1)))
    }

    @Test func aRestoredLeaseItsHolderDoesNotHoldRunsAgain() {
        // The coordinator recorded the lease, then died before the TASK left: the holder never
        // had it. Its heartbeats must not keep that lease alive; the task runs again at once.
        var s = Scheduler()
        s.addJob(1, tasks: [StoredTask(id: 100, chunk: 0, work: Self.work, done: false, attempt: 3, leasedTo: "a")], now: 0)
        let directives = s.handle(.workerReady("a", Self.hello), now: 1)
        #expect(directives.contains(.requeue(task: 100, reason: "worker a does not hold it")))
        #expect(dispatched(directives).map(\.1) == [LeaseRef(task: 100, attempt: 4)])
    }

    @Test func workersOnlyGetTasksForTheirBackend() {
        var s = scheduler(tasks: 1)
        var other = Self.hello
        other.backends = ["diffusers"]
        #expect(dispatched(s.handle(.workerReady("gpu", other), now: 0)).isEmpty)
    }
}
