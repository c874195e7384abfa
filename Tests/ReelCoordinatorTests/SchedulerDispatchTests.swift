import ReelCore
import ReelSampler
import ReelWire
import Testing

@testable import ReelCoordinator

/// Keeping every worker busy: ordering, dependencies, prefetch, stragglers and priorities.
@Suite struct SchedulerDispatchTests {
    static let hello = SchedulerTests.hello

    static func work(frames: Int) -> ChunkWork {
        ChunkWork(
            backend: .procedural, prompt: "p", seed: 1, steps: 4, shift: 3,
            grid: LatentGrid(frames: 64, channels: 3, height: 32, width: 32),
            region: Region(frames: 0..<frames, rows: 0..<32, columns: 0..<32))
    }

    func tasks(_ count: Int, base: Int64 = 100, frames: Int = 8) -> [StoredTask] {
        (0..<count).map { StoredTask(id: base + Int64($0), chunk: $0, work: Self.work(frames: frames), done: false) }
    }

    func leases(_ directives: [SchedulerDirective]) -> [(WorkerID, LeaseRef)] {
        directives.compactMap { if case .dispatch(let w, let a, _, _, _) = $0 { return (w, a.lease) } else { return nil } }
    }

    /// Runs a task to its commit and returns what the scheduler answered.
    func finish(_ s: inout Scheduler, _ worker: WorkerID, _ lease: LeaseRef, now: Double) -> [SchedulerDirective] {
        s.handle(.resultArrived(worker, lease), now: now) + s.handle(.committed(lease), now: now)
    }

    /// A job's page order already puts each unit where the farm needs it (decision 0049): a
    /// longer task does not jump it.
    @Test func aLongerTaskDoesNotJumpThePageOrder() {
        var s = Scheduler(timings: SchedulerTimings(prefetch: 0))
        var stored = tasks(3, frames: 4)
        stored[2].work = Self.work(frames: 16)
        s.addJob(1, tasks: stored, now: 0)
        #expect(leases(s.handle(.workerReady("a", Self.hello), now: 0)).map(\.1.task) == [100])
        #expect(leases(s.handle(.workerReady("b", Self.hello), now: 0)).map(\.1.task) == [101])
    }

    @Test func aTaskWaitsForItsDependenciesAndItsConditioningThenRunsAtOnce() {
        var s = Scheduler(timings: SchedulerTimings(prefetch: 0))
        var stored = tasks(3)
        stored[2].dependencies = [100, 101]
        stored[2].work = Self.work(frames: 16)
        s.addJob(1, tasks: stored, now: 0)
        let first = leases(s.handle(.workerReady("a", Self.hello), now: 0) + s.handle(.workerReady("b", Self.hello), now: 0))
        #expect(first.map(\.1.task).sorted() == [100, 101], "the longer task is not ready, so it is not first")
        #expect(leases(finish(&s, "a", first[0].1, now: 1)).isEmpty, "one dependency is still running")
        #expect(s.awaitingConditioning(perJob: 8).isEmpty)
        #expect(leases(finish(&s, "b", first[1].1, now: 2)).isEmpty, "its conditioning is not built yet")
        #expect(s.awaitingConditioning(perJob: 8).map(\.task) == [102])
        #expect(s.gauges.readyTasks == 1, "it counts as ready")
        #expect(leases(s.handle(.conditioned([102]), now: 3)).map(\.1.task) == [102])
        #expect(s.awaitingConditioning(perJob: 8).isEmpty)
    }

    @Test func aFreeWorkerTakesAReadyTaskOverOneAwaitingItsConditioning() {
        var s = Scheduler(timings: SchedulerTimings(prefetch: 0))
        var stored = tasks(3)
        stored[2].dependencies = [100]
        stored[2].work = Self.work(frames: 16)
        s.addJob(1, tasks: stored, now: 0)
        let first = leases(s.handle(.workerReady("a", Self.hello), now: 0))
        #expect(first.map(\.1.task) == [100])
        let second = leases(finish(&s, "a", first[0].1, now: 1))
        #expect(second.map(\.1.task) == [101], "102 goes first in dispatch order, but its conditioning is not built")
        #expect(s.awaitingConditioning(perJob: 8).map(\.task) == [102])
        #expect(leases(s.handle(.conditioned([102]), now: 2)).isEmpty, "no worker is free")
        #expect(s.awaitingConditioning(perJob: 8).isEmpty)
        let third = leases(finish(&s, "a", second[0].1, now: 3))
        #expect(third.map(\.1.task) == [102])
        // Its lease took the conditioning: failed, it waits for a new one before it runs again.
        _ = s.handle(.workerReady("b", Self.hello), now: 4)
        #expect(leases(s.handle(.taskFailed("a", third[0].1, reason: "x"), now: 4)).isEmpty)
        #expect(s.awaitingConditioning(perJob: 8).map(\.task) == [102])
        #expect(leases(s.handle(.conditioned([102]), now: 9)).map(\.0) == ["b"], "again once built, on the worker that did not fail it")
    }

    @Test func tasksAwaitingConditioningCountAsPlentifulWorkForPrefetch() {
        var s = Scheduler(timings: SchedulerTimings(prefetch: 1))
        var stored = tasks(6)
        for index in 2..<6 { stored[index].dependencies = [1] }
        s.addJob(1, tasks: stored, now: 0)
        let first = leases(s.handle(.workerReady("a", Self.hello), now: 0) + s.handle(.workerReady("b", Self.hello), now: 0))
        #expect(first.map(\.1.task).sorted() == [100, 101], "two built tasks for two workers, one each")
        let queued = leases(s.handle(.conditioned([102]), now: 1))
        #expect(queued.map(\.1.task) == [102], "four tasks are ready (three awaiting their conditioning): not the tail")
        #expect(s.workerLoads.values.sorted() == [1, 2])
    }

    @Test func prefetchQueuesOneMoreWhileWorkIsPlentifulButNotAtTheTail() {
        var s = Scheduler(timings: SchedulerTimings(prefetch: 1))
        s.addJob(1, tasks: tasks(4), now: 0)
        let a = leases(s.handle(.workerReady("a", Self.hello), now: 0))
        #expect(a.map(\.1.task) == [100, 101], "a runs one and has the next queued")
        let b = leases(s.handle(.workerReady("b", Self.hello), now: 0))
        #expect(b.map(\.1.task) == [102], "2 ready tasks for 2 workers: no prefetch, so the last is not stuck behind a")
        #expect(s.workerLoads == ["a": 2, "b": 1])
    }

    @Test func anIdleWorkerBacksUpAStragglerAndTheFirstResultWins() {
        var s = Scheduler(timings: SchedulerTimings(workerTimeoutSeconds: 100, prefetch: 0, stragglerFactor: 1.5))
        s.addJob(1, tasks: tasks(3), now: 0)
        let first = leases(s.handle(.workerReady("a", Self.hello), now: 0) + s.handle(.workerReady("b", Self.hello), now: 0))
        // a finishes 100 in 1 s and takes 102; b is still on 101 (a straggler).
        let afterA = leases(finish(&s, "a", first[0].1, now: 1))
        #expect(afterA.map(\.1.task) == [102])
        let c = leases(s.handle(.workerReady("c", Self.hello), now: 1.2))
        #expect(c.isEmpty, "101 has run 1.2 s, not yet 1.5 x the 1 s median")
        let backup = leases(s.handle(.tick, now: 1.6))
        #expect(backup.map { $0.0 } == ["c"] && backup.map(\.1) == [LeaseRef(task: 101, attempt: 2)])
        // The backup delivers first: it is committed; the straggler is told to drop its copy.
        let won = s.handle(.resultArrived("c", LeaseRef(task: 101, attempt: 2)), now: 2)
        #expect(won.contains(.commit("c", LeaseRef(task: 101, attempt: 2), job: 1, chunk: 1)))
        #expect(won.contains(.send("b", .revoke(LeaseRef(task: 101, attempt: 1)))))
        let late = s.handle(.resultArrived("b", LeaseRef(task: 101, attempt: 1)), now: 2.1)
        #expect(late.contains { if case .ignored = $0 { true } else { false } }, "the slower copy is not committed again")
        #expect(s.handle(.committed(LeaseRef(task: 101, attempt: 2)), now: 2.2).contains(.send("c", .ack(LeaseRef(task: 101, attempt: 2)))))
        #expect(s.workerLoads["b"] == 0, "the straggler's lease is released")
    }

    /// A rolling job's seams run a fraction of a chunk's steps: a chunk is a straggler past 1.5
    /// times what the median step time says its own steps take, not past 1.5 times the median
    /// task (which the seams pull down to a fraction of a chunk).
    @Test func aLongTaskAmongShortOnesIsAStragglerOnlyPastItsOwnStepsWorth() {
        var s = Scheduler(timings: SchedulerTimings(workerTimeoutSeconds: 100, prefetch: 0, stragglerFactor: 1.5))
        var stored = tasks(6)
        // 100 is a chunk of all four steps (1 s); 101-105 are seams re-noised to strength 0.5,
        // which run one of the four (0.25 s each).
        for index in 1..<6 { stored[index].work.refineStrength = 0.5 }
        #expect(PlanCost.runSteps(stored[0].work) == 4 && PlanCost.runSteps(stored[1].work) == 1)
        s.addJob(1, tasks: stored, now: 0)
        let first = leases(s.handle(.workerReady("a", Self.hello), now: 0) + s.handle(.workerReady("b", Self.hello), now: 0))
        #expect(first.map(\.1.task) == [100, 101], "a runs the chunk, b a seam")
        var now = 0.0, lease = first[1].1
        while true {
            now += 0.25
            let next = leases(finish(&s, "b", lease, now: now))
            guard let following = next.first else { break }
            lease = following.1
        }
        #expect(now == 1.25, "b ran the five seams, 0.25 s each")
        _ = s.handle(.heartbeat("a"), now: 1.25)
        #expect(leases(s.handle(.tick, now: 1.4)).isEmpty, "the chunk has run 1.4 s of its 1 s: under 1.5 x")
        let backup = leases(s.handle(.tick, now: 1.6))
        #expect(backup.map { $0.0 } == ["b"] && backup.map(\.1) == [LeaseRef(task: 100, attempt: 2)], "past 1.5 s: backed up")
    }

    @Test func anIdleWorkerAtTheTailTakesATaskQueuedBehindAnotherAtOnce() {
        var s = Scheduler(timings: SchedulerTimings(workerTimeoutSeconds: 100, prefetch: 1))
        s.addJob(1, tasks: tasks(4), now: 0)
        let a = leases(s.handle(.workerReady("a", Self.hello), now: 0))
        #expect(a.map(\.1.task) == [100, 101], "a runs 100 with 101 queued")
        let b = leases(s.handle(.workerReady("b", Self.hello), now: 0))
        #expect(b.map(\.1.task) == [102])
        #expect(leases(finish(&s, "b", b[0].1, now: 1)).map(\.1.task) == [103])
        // Nothing is ready any more, while 101 waits behind a's running task: b takes it at the
        // next tick (the shell ticks after every batch of messages).
        #expect(leases(finish(&s, "b", LeaseRef(task: 103, attempt: 1), now: 2)).isEmpty, "backups are handed out on ticks")
        let tick = s.handle(.tick, now: 2)
        let stolen = leases(tick)
        #expect(stolen.map { $0.0 } == ["b"] && stolen.map(\.1) == [LeaseRef(task: 101, attempt: 2)])
        // The queued copy is revoked as b takes it: a would otherwise start it when 100 ends and
        // spend a whole task on a copy that loses.
        #expect(tick.contains(.send("a", .revoke(LeaseRef(task: 101, attempt: 1)))), "a drops its queued copy at once")
        #expect(s.workerLoads["a"] == 1, "a holds only its running task")
        let won = s.handle(.resultArrived("b", LeaseRef(task: 101, attempt: 2)), now: 3)
        #expect(won.contains(.commit("b", LeaseRef(task: 101, attempt: 2), job: 1, chunk: 1)) && !won.contains { if case .send("a", _) = $0 { true } else { false } })
        let late = s.handle(.resultArrived("a", LeaseRef(task: 101, attempt: 1)), now: 3.1)
        #expect(late.contains(.send("a", .revoke(LeaseRef(task: 101, attempt: 1)))), "a copy a had started anyway is revoked again")
    }

    @Test func aStragglersBackupSurvivesTheOriginalHoldersDeath() {
        var s = Scheduler(timings: SchedulerTimings(workerTimeoutSeconds: 5, prefetch: 0, stragglerFactor: 1.5))
        s.addJob(1, tasks: tasks(2), now: 0)
        let first = leases(s.handle(.workerReady("a", Self.hello), now: 0) + s.handle(.workerReady("b", Self.hello), now: 0))
        _ = finish(&s, "a", first[0].1, now: 1)
        let backup = leases(s.handle(.tick, now: 2))
        #expect(backup.map { $0.0 } == ["a"] && backup.map(\.1.task) == [101])
        _ = s.handle(.heartbeat("a"), now: 6)
        let expiry = s.handle(.tick, now: 6)
        #expect(!expiry.contains { if case .requeue = $0 { true } else { false } }, "b died but a still holds a lease of 101")
        #expect(s.handle(.resultArrived("a", backup[0].1), now: 6.5).contains(.commit("a", backup[0].1, job: 1, chunk: 1)))
    }

    @Test func higherPriorityJobsGoFirstAndEqualOnesTakeTurns() {
        var s = Scheduler(timings: SchedulerTimings(prefetch: 0))
        s.addJob(1, tasks: tasks(2, base: 100), now: 0)
        s.addJob(2, priority: 5, tasks: tasks(2, base: 200), now: 0)
        s.addJob(3, tasks: tasks(2, base: 300), now: 0)
        var order: [Int64] = []
        var next = leases(s.handle(.workerReady("a", Self.hello), now: 0))
        for step in 0..<6 {
            order += next.map(\.1.task)
            guard let lease = next.first?.1 else { break }
            next = leases(finish(&s, "a", lease, now: Double(step + 1)))
        }
        #expect(order == [200, 201, 100, 300, 101, 301])
    }

    @Test func tasksAwaitingConditioningAreListedByPriorityWithEqualJobsTakingTurns() {
        var s = Scheduler(timings: SchedulerTimings(prefetch: 0))
        func conditioned(_ stored: [StoredTask]) -> [StoredTask] {
            stored.map {
                var task = $0
                task.dependencies = [1]  // committed before: met, but its output is the task's conditioning
                return task
            }
        }
        s.addJob(1, tasks: conditioned(tasks(3, base: 100)), now: 0)
        s.addJob(2, priority: 5, tasks: conditioned(tasks(3, base: 200)), now: 0)
        s.addJob(3, tasks: conditioned(tasks(2, base: 300)), now: 0)
        #expect(s.awaitingConditioning(perJob: 2).map(\.task) == [200, 201, 100, 300, 101, 301])
        #expect(s.awaitingConditioning(perJob: 2).map(\.unit) == [0, 1, 0, 0, 1, 1])
        #expect(s.awaitingConditioning(perJob: 2, skipping: [2]).map(\.task) == [100, 300, 101, 301], "a job with enough built is skipped")
        #expect(leases(s.handle(.workerReady("a", Self.hello), now: 0)).isEmpty, "nothing is built")
        // A built one goes out at once and is no longer listed; the next one takes its place.
        #expect(leases(s.handle(.conditioned([100]), now: 1)).map(\.1.task) == [100])
        #expect(s.awaitingConditioning(perJob: 1).map(\.task) == [200, 101, 300])
    }

    @Test func queuedLeasesGoOutSixteenAMillisecondAfterEveryFreeSlotIsFilled() {
        var s = Scheduler(timings: SchedulerTimings(prefetch: 1))
        s.addJob(1, tasks: tasks(200), now: 0)
        var first: [(WorkerID, LeaseRef)] = []
        for index in 0..<40 { first += leases(s.handle(.workerReady("w\(index)", Self.hello), now: 1)) }
        #expect(first.count == 40 + Scheduler.queuedLeasesPerMillisecond, "every worker's slot, and sixteen queued")
        #expect(Set(first.map(\.0)).count == 40)
        #expect(leases(s.handle(.tick, now: 1)).isEmpty, "none more in the same millisecond")
        #expect(leases(s.handle(.tick, now: 1 + 1.0 / 2048)).count == 7, "about half a millisecond later, 7.8 of them")
        #expect(leases(s.handle(.tick, now: 1.5)).count == 16, "never more than sixteen at once")
        #expect(leases(s.handle(.tick, now: 2)).count == 1, "the last of a queued task for each of the 40 workers")
        #expect(leases(s.handle(.tick, now: 3)).isEmpty)
    }

    @Test func aJobsStartFillsEveryWorkersSlotAndQueueAtOnce() {
        var s = Scheduler(timings: SchedulerTimings(prefetch: 1))
        for index in 0..<40 { _ = s.handle(.workerReady("w\(index)", Self.hello), now: 0) }
        s.addJob(1, tasks: tasks(200), now: 1)
        let start = leases(s.handle(.tick, now: 1))
        #expect(start.count == 80)
        #expect(Set(start.prefix(40).map(\.0)).count == 40, "the free slots are filled first")
        #expect(leases(s.handle(.tick, now: 2)).isEmpty)
    }

    @Test func eventsHandledTogetherAreAppliedInOrderBeforeOneDispatchPass() {
        var s = Scheduler(timings: SchedulerTimings(prefetch: 0))
        s.addJob(1, tasks: tasks(4), now: 0)
        let first = leases(s.handle(.workerReady("a", Self.hello), now: 0) + s.handle(.workerReady("b", Self.hello), now: 0))
        #expect(first.map(\.1.task) == [100, 101])
        let directives = s.handle([.resultArrived("a", first[0].1), .resultArrived("b", first[1].1)], now: 1)
        let kinds = directives.compactMap { directive -> String? in
            switch directive {
            case .commit(let worker, _, _, _): "commit \(worker)"
            case .dispatch(let worker, let assignment, _, _, _): "dispatch \(assignment.lease.task) to \(worker)"
            default: nil
            }
        }
        #expect(kinds == ["commit a", "commit b", "dispatch 102 to a", "dispatch 103 to b"])
    }
}
