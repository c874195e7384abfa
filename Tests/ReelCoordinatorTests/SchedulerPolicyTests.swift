import ReelCore
import ReelWire
import Testing

@testable import ReelCoordinator

/// Failure policy, job control and disk-full handling of the pure scheduler.
@Suite struct SchedulerPolicyTests {
    static let work = SchedulerTests.work
    static let hello = SchedulerTests.hello

    func scheduler(tasks: Int = 3, timings: SchedulerTimings = SchedulerTimings(retryBackoffSeconds: 1, prefetch: 0)) -> Scheduler {
        var scheduler = Scheduler(timings: timings)
        scheduler.addJob(1, tasks: (0..<tasks).map { StoredTask(id: Int64(100 + $0), chunk: $0, work: Self.work, done: false) }, now: 0)
        return scheduler
    }

    func leases(_ directives: [SchedulerDirective]) -> [(WorkerID, LeaseRef)] {
        directives.compactMap { if case .dispatch(let w, let a, _, _, _) = $0 { return (w, a.lease) } else { return nil } }
    }

    @Test func aFailedTaskWaitsItsBackoffAndGoesToAnotherWorker() {
        var s = scheduler(tasks: 1)
        _ = s.handle(.workerReady("a", Self.hello), now: 0)
        let failed = s.handle(.taskFailed("a", LeaseRef(task: 100, attempt: 1), reason: "oom"), now: 1)
        #expect(leases(failed).isEmpty, "not retried before the back-off")
        #expect(leases(s.handle(.workerReady("b", Self.hello), now: 1.5)).isEmpty, "still backing off")
        let retry = leases(s.handle(.tick, now: 2.1))
        #expect(retry.map(\.0) == ["b"], "retried elsewhere, not on the worker that failed it")
        #expect(retry.first?.1.attempt == 2)
    }

    @Test func aWorkerThatFailedATaskStillGetsItWhenNoOtherCan() {
        var s = scheduler(tasks: 1)
        _ = s.handle(.workerReady("a", Self.hello), now: 0)
        _ = s.handle(.taskFailed("a", LeaseRef(task: 100, attempt: 1), reason: "flaky"), now: 1)
        #expect(leases(s.handle(.tick, now: 2.1)).map(\.0) == ["a"])
    }

    @Test func aWorkerFailingAJobRepeatedlyIsBlocklistedAndTheJobFailsWhenNoWorkerIsLeft() throws {
        var s = scheduler(
            tasks: 4, timings: SchedulerTimings(maxFailures: 5, blocklistAfter: 2, retryBackoffSeconds: 0, prefetch: 0))
        _ = s.handle(.workerReady("bad", Self.hello), now: 0)
        let first = s.handle(.taskFailed("bad", LeaseRef(task: 100, attempt: 1), reason: "x"), now: 1)
        let lease = try #require(leases(first).first?.1, "the only worker gets the task again")
        let second = s.handle(.taskFailed("bad", lease, reason: "x"), now: 2)
        #expect(s.blocklist(job: 1) == ["bad"])
        #expect(
            second.contains(.setJobState(job: 1, .failed, reason: "no worker left that can run it (blocklisted: bad); last failure: x")))
    }

    @Test func blocklistedWorkersGetNoTasksOfThatJob() {
        var s = scheduler(tasks: 4, timings: SchedulerTimings(maxFailures: 5, blocklistAfter: 1, retryBackoffSeconds: 0, prefetch: 0))
        _ = s.handle(.workerReady("bad", Self.hello), now: 0)
        var out = s.handle(.workerReady("good", Self.hello), now: 0)
        _ = s.handle(.taskFailed("bad", LeaseRef(task: 100, attempt: 1), reason: "x"), now: 1)
        for step in 2..<10 {
            out += s.handle(.tick, now: Double(step))
            #expect(!leases(out).contains { $0.0 == "bad" })
            let finished = leases(out)
            out = []
            for (worker, lease) in finished {
                out += s.handle(.resultArrived(worker, lease), now: Double(step))
                out += s.handle(.committed(lease), now: Double(step))
            }
        }
        #expect(s.progress(job: 1)! == (4, 4), "the good worker finished the job")
    }

    @Test func pausedJobsDispatchNothingUntilResumed() {
        var s = scheduler(tasks: 2)
        #expect(s.handle(.control(job: 1, .pause), now: 0) == [.setJobState(job: 1, .paused, reason: "paused by request")])
        #expect(leases(s.handle(.workerReady("a", Self.hello), now: 0)).isEmpty)
        let resumed = s.handle(.control(job: 1, .resume), now: 1)
        #expect(resumed.contains(.setJobState(job: 1, .running, reason: "resumed by request")))
        #expect(leases(resumed).count == 1)
    }

    @Test func cancelledJobsIgnoreLateResultsAndCanBeResumed() {
        var s = scheduler(tasks: 1)
        _ = s.handle(.workerReady("a", Self.hello), now: 0)
        #expect(s.handle(.control(job: 1, .cancel), now: 1).contains(.setJobState(job: 1, .cancelled, reason: "cancelled by request")))
        let late = s.handle(.resultArrived("a", LeaseRef(task: 100, attempt: 1)), now: 2)
        #expect(late.contains { if case .ignored(let why) = $0 { why.contains("cancelled job 1") } else { false } })
        #expect(!late.contains { if case .commit = $0 { true } else { false } })
        let resumed = s.handle(.control(job: 1, .resume), now: 3)
        #expect(leases(resumed).first?.1 == LeaseRef(task: 100, attempt: 2))
    }

    @Test func aFullDiskPausesTheJobUntilSpaceReturns() {
        var s = scheduler(tasks: 2)
        _ = s.handle(.workerReady("a", Self.hello), now: 0)
        let lease = LeaseRef(task: 100, attempt: 1)
        #expect(leases(s.handle(.resultArrived("a", lease), now: 1)).map(\.1) == [LeaseRef(task: 101, attempt: 1)], "a moves on")
        let full = s.handle(.commitFailed(lease, reason: "No space left on device", diskFull: true), now: 1)
        #expect(full.contains(.requeue(task: 100, reason: "commit failed: No space left on device")))
        #expect(full.contains(.setJobState(job: 1, .paused, reason: "disk full: No space left on device")))
        #expect(s.hasJobsPausedForSpace)
        #expect(leases(s.handle(.tick, now: 2)).isEmpty)
        #expect(s.handle(.control(job: 1, .pause), now: 2).allSatisfy { if case .ignored = $0 { true } else { false } })
        #expect(s.handle(.spaceAvailable, now: 3).contains(.setJobState(job: 1, .running, reason: "disk space is back")))
        // The worker's slot frees when its result arrives: the requeued chunk goes out then.
        let next = s.handle(.resultArrived("a", LeaseRef(task: 101, attempt: 1)), now: 4)
        #expect(leases(next).first?.1 == LeaseRef(task: 100, attempt: 2), "the uncommitted chunk runs again")
    }

    @Test func aManualPauseIsNotUndoneByFreeSpace() {
        var s = scheduler(tasks: 1)
        _ = s.handle(.control(job: 1, .pause), now: 0)
        #expect(s.handle(.spaceAvailable, now: 1).isEmpty)
        #expect(s.state(job: 1) == .paused)
    }

    /// Attack D/E: a chunk whose holders keep going silent fails its job with a reason
    /// after a few lost leases, instead of moving between workers forever.
    @Test func lostLeasesCountAsFailuresOnlyPastAFew() {
        var s = scheduler(tasks: 1, timings: SchedulerTimings(workerTimeoutSeconds: 1, maxFailures: 2, retryBackoffSeconds: 0))
        var last: [SchedulerDirective] = []
        for round in 0..<4 {
            let t = Double(round) * 10
            let out = s.handle(.workerReady("w\(round)", Self.hello), now: t)
            #expect(leases(out).count == 1, "round \(round)")
            last = s.handle(.tick, now: t + 5)
            #expect(s.state(job: 1) == (round < 3 ? .running : .failed), "after \(round + 1) lost leases")
        }
        #expect(last.contains { if case .setJobState(1, .failed, let reason?) = $0 { reason.contains("lost 4 leases") } else { false } })
    }

    /// Attack D: heartbeats keep a worker alive, but only reported steps keep its lease.
    @Test func aLeaseIsKeptByProgressNotByPresence() {
        let timings = SchedulerTimings(workerTimeoutSeconds: 5, leaseSeconds: 1000, retryBackoffSeconds: 0, stallSeconds: 10)
        var s = scheduler(tasks: 1, timings: timings)
        let lease = LeaseRef(task: 100, attempt: 1)
        #expect(leases(s.handle(.workerReady("honest", Self.hello), now: 0)).map(\.1) == [lease])
        for t in 1...30 {
            _ = s.handle(.heartbeat("honest", progress: [TaskProgress(lease: lease, step: UInt32(min(4, t / 7 + 1)))]), now: Double(t))
            _ = s.handle(.tick, now: Double(t))
        }
        #expect(s.workerLoads["honest"] == 1, "a step every 7 s keeps the lease past the 10 s bound")
        var released: [SchedulerDirective] = []
        for t in 31...50 {
            _ = s.handle(.heartbeat("honest", progress: [TaskProgress(lease: lease, step: 4)]), now: Double(t))
            released += s.handle(.tick, now: Double(t))
        }
        #expect(leases(released).first?.1 == LeaseRef(task: 100, attempt: 2), "heartbeats with no new step lose the lease (it runs again)")
        #expect(released.contains { if case .requeue(100, let reason) = $0 { reason.contains("made no progress") } else { false } })
    }

    /// Attack C: a verified task commits only when two principals agree; a third decides a
    /// disagreement, and the principal that lost is quarantined and refused from then on.
    @Test func verifiedResultsCommitOnAgreementAndTheLoserIsQuarantined() {
        var timings = SchedulerTimings(retryBackoffSeconds: 0, prefetch: 0)
        timings.verifyFraction = 1
        var s = scheduler(tasks: 1, timings: timings)
        let first = LeaseRef(task: 100, attempt: 1)
        #expect(leases(s.handle(.workerReady("liar", Self.hello), now: 0)).map(\.1) == [first])
        _ = s.handle(.workerReady("honest", Self.hello), now: 0)
        let voted = s.handle(.resultArrived("liar", first, digest: "bad"), now: 1)
        #expect(!voted.contains { if case .commit = $0 { true } else { false } }, "one result is only a vote")
        #expect(voted.contains(.send("liar", .ack(first))))
        let second = LeaseRef(task: 100, attempt: 2)
        #expect(leases(voted).map(\.0) == ["honest"] && leases(voted).map(\.1) == [second], "the other principal verifies")
        let disagreed = s.handle(.resultArrived("honest", second, digest: "good"), now: 2)
        #expect(!disagreed.contains { if case .commit = $0 { true } else { false } }, "two digests: a third worker decides")
        #expect(leases(disagreed).isEmpty, "no third principal is connected yet")
        let third = leases(s.handle(.workerReady("judge", Self.hello), now: 3))
        #expect(third.map(\.0) == ["judge"])
        let decided = s.handle(.resultArrived("judge", third[0].1, digest: "good"), now: 4)
        #expect(decided.contains(.commit("judge", third[0].1, job: 1, chunk: 0)))
        #expect(decided.contains { if case .quarantine("liar", let reason) = $0 { reason.contains("disagreed") } else { false } })
        #expect(s.workerLoads["liar"] == nil, "the liar is dropped")
        #expect(s.handle(.workerReady("liar", Self.hello), now: 5).contains(.send("liar", .disconnect(reason: "quarantined: a result of liar lost a verification vote"))))
    }

    /// A lone worker is never its own check: its result waits for a worker of another principal.
    @Test func withNoOtherPrincipalToCheckItAResultWaitsAndSaysSo() {
        var timings = SchedulerTimings(retryBackoffSeconds: 0, prefetch: 0)
        timings.verifyFraction = 1
        var s = scheduler(tasks: 1, timings: timings)
        let lease = LeaseRef(task: 100, attempt: 1)
        _ = s.handle(.workerReady("alone", Self.hello), now: 0)
        #expect(!s.handle(.resultArrived("alone", lease, digest: "d"), now: 1).contains { if case .commit = $0 { true } else { false } })
        #expect(s.waitingReason(job: 1)?.contains("awaits verification by a worker of another key") == true)
        let check = leases(s.handle(.workerReady("other", Self.hello), now: 2))
        #expect(check.map(\.0) == ["other"])
        #expect(s.handle(.resultArrived("other", check[0].1, digest: "d"), now: 3).contains(.commit("other", check[0].1, job: 1, chunk: 0)))
    }

    @Test func verificationPicksTheSameTasksAtAGivenFraction() {
        let picked = (0..<10_000).filter { Scheduler.isVerified(Int64($0), fraction: 0.02) }
        #expect((150...250).contains(picked.count), "\(picked.count) of 10000 at 0.02")
        #expect(picked == (0..<10_000).filter { Scheduler.isVerified(Int64($0), fraction: 0.02) })
        #expect(!Scheduler.isVerified(7, fraction: 0) && Scheduler.isVerified(7, fraction: 1))
    }

    /// A model backend is bit-exact only on like hardware and software: a verifying run goes
    /// to a worker of the first voter's device, never compared across devices.
    @Test func modelResultsAreVerifiedOnlyOnTheSameDevice() {
        var timings = SchedulerTimings(retryBackoffSeconds: 0, prefetch: 0)
        timings.verifyFraction = 1
        var s = Scheduler(timings: timings)
        var work = Self.work
        work.backend = .diffusers
        work.model = ModelSettings(path: "/m", geometry: ModelGeometry(pipeline: "WanPipeline", family: "wan", latentChannels: 3, temporalCompression: 4, spatialCompression: 8, patchFrames: 1, patchHeight: 2, patchWidth: 2, decoderCausal: false))
        s.addJob(1, tasks: [StoredTask(id: 100, chunk: 0, work: work, done: false)], now: 0)
        func hello(_ device: String) -> WorkerHello {
            WorkerHello(name: "x", backends: ["diffusers"], slots: 1, memoryMegabytes: 1 << 20, tags: [], models: ["*"], device: device)
        }
        let first = leases(s.handle(.workerReady("cpu-1", hello("cpu")), now: 0))
        _ = s.handle(.resultArrived("cpu-1", first[0].1, digest: "d"), now: 1)
        #expect(leases(s.handle(.workerReady("gpu-1", hello("cuda NVIDIA H200")), now: 2)).isEmpty, "a GPU does not verify a CPU's result")
        #expect(s.waitingReason(job: 1)?.contains("on device 'cpu'") == true)
        let check = leases(s.handle(.workerReady("cpu-2", hello("cpu")), now: 3))
        #expect(check.map(\.0) == ["cpu-2"])
    }
}
