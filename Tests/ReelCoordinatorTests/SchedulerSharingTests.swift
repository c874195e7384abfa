import ReelCore
import ReelWire
import Testing

@testable import ReelCoordinator

/// Sharing the farm between jobs, on a fixed clock: equal priorities progress at equal rates,
/// a higher priority takes the next free workers, a submitter cap holds, and within a job
/// earlier frames go first.
@Suite struct SchedulerSharingTests {
    static let hello = SchedulerTests.hello

    static func work(start: Int, frames: Int = 8) -> ChunkWork {
        ChunkWork(
            backend: .procedural, prompt: "p", seed: 1, steps: 4, shift: 3,
            grid: LatentGrid(frames: 4096, channels: 3, height: 32, width: 32),
            region: Region(frames: start..<(start + frames), rows: 0..<32, columns: 0..<32))
    }

    /// `count` independent tasks of one job, in time order, with ids from `base`.
    static func tasks(_ count: Int, base: Int64) -> [StoredTask] {
        (0..<count).map { StoredTask(id: base + Int64($0), chunk: $0, work: work(start: 8 * $0), done: false) }
    }

    static func leases(_ directives: [SchedulerDirective]) -> [(worker: WorkerID, lease: LeaseRef)] {
        directives.compactMap { if case .dispatch(let w, let a, _, _, _) = $0 { return (w, a.lease) } else { return nil } }
    }

    /// A farm on a fixed clock where every running lease takes one time unit: each round, every
    /// worker delivers the oldest lease it holds. Returns the tasks committed each round.
    struct Farm {
        var scheduler: Scheduler
        var held: [WorkerID: [LeaseRef]] = [:]
        var clock = 0.0

        init(_ scheduler: Scheduler, workers: Int) {
            self.scheduler = scheduler
            for index in 0..<workers { take(self.scheduler.handle(.workerReady("w\(index)", SchedulerSharingTests.hello), now: 0)) }
        }

        mutating func take(_ directives: [SchedulerDirective]) {
            for (worker, lease) in SchedulerSharingTests.leases(directives) { held[worker, default: []].append(lease) }
            for directive in directives {
                if case .send(let worker, .revoke(let lease)) = directive { held[worker]?.removeAll { $0 == lease } }
            }
        }

        /// One time unit: every worker's running lease delivers and commits.
        mutating func round() -> [Int64] {
            clock += 1
            var done: [Int64] = []
            for worker in held.keys.sorted() {
                guard let lease = held[worker]?.first else { continue }
                held[worker]!.removeFirst()
                take(scheduler.handle(.resultArrived(worker, lease), now: clock))
                take(scheduler.handle(.committed(lease), now: clock))
                done.append(lease.task)
            }
            take(scheduler.handle(.tick, now: clock))
            return done
        }
    }

    @Test func twoEqualJobsSubmittedTogetherProgressAtTheSameRate() {
        for prefetch in [0, 1] {
            var s = Scheduler(timings: SchedulerTimings(prefetch: prefetch, stragglerFactor: 0))
            s.addJob(1, tasks: Self.tasks(200, base: 1000), now: 0)
            s.addJob(2, tasks: Self.tasks(200, base: 2000), now: 0)
            var farm = Farm(s, workers: 10)
            var done: [Int64: Int] = [:]
            for round in 1...12 {
                for task in farm.round() { done[task / 1000, default: 0] += 1 }
                // Measured over at least two task times (with prefetch, a worker's running and queued tasks are of different jobs).
                let (a, b) = (Double(done[1] ?? 0), Double(done[2] ?? 0))
                if round >= 2 { #expect(abs(a - b) <= 0.1 * max(a, b), "prefetch \(prefetch), round \(round): job 1 has \(a) done, job 2 \(b)") }
            }
            #expect((done[1] ?? 0) + (done[2] ?? 0) == 120, "every worker ran one task per round")
        }
    }

    @Test func aOneWorkerFarmAlternatesBetweenEqualJobs() {
        var s = Scheduler(timings: SchedulerTimings(prefetch: 0, stragglerFactor: 0))
        s.addJob(1, tasks: Self.tasks(10, base: 1000), now: 0)
        s.addJob(2, tasks: Self.tasks(10, base: 2000), now: 0)
        var farm = Farm(s, workers: 1)
        let order = (0..<6).flatMap { _ in farm.round() }
        #expect(order == [1000, 2000, 1001, 2001, 1002, 2002])
    }

    @Test func aJobJoiningLateStartsLevelInsteadOfTakingEverything() {
        var s = Scheduler(timings: SchedulerTimings(prefetch: 0, stragglerFactor: 0))
        s.addJob(1, tasks: Self.tasks(100, base: 1000), now: 0)
        var farm = Farm(s, workers: 4)
        for _ in 0..<10 { _ = farm.round() }
        farm.scheduler.addJob(2, tasks: Self.tasks(100, base: 2000), now: farm.clock)
        var done: [Int64: Int] = [:]
        for _ in 0..<5 {
            for task in farm.round() { done[task / 1000, default: 0] += 1 }
        }
        // The first round commits job 1's 4 running tasks; the 16 leases given after job 2 joined
        // split evenly (served from zero, job 2 would take them all; by job order, none).
        #expect(done == [1: 12, 2: 8])
    }

    @Test func aHigherPriorityJobGetsTheNextFreeWorkersWithinOneTaskTime() {
        var s = Scheduler(timings: SchedulerTimings(prefetch: 1, stragglerFactor: 0))
        s.addJob(1, tasks: Self.tasks(100, base: 1000), now: 0)
        var farm = Farm(s, workers: 4)
        for _ in 0..<3 { _ = farm.round() }
        #expect(farm.held.values.allSatisfy { $0.count == 2 }, "every worker runs one task and has the next queued")
        farm.scheduler.addJob(2, priority: 5, tasks: Self.tasks(8, base: 2000), now: farm.clock)
        let answer = farm.scheduler.handle(.tick, now: farm.clock)
        farm.take(answer)
        let revoked = answer.filter { if case .send(_, .revoke) = $0 { true } else { false } }
        #expect(revoked.count == 4, "each worker's queued low-priority task is taken back")
        #expect(farm.held.values.allSatisfy { $0.count == 2 && $0[1].task >= 2000 }, "and an urgent one queued in its place")
        // One task time later, every worker runs the urgent job.
        _ = farm.round()
        #expect(farm.held.values.allSatisfy { $0.first.map { $0.task >= 2000 } == true })
        // Job 1's running tasks finished; its taken-back ones are ready again and run after the urgent job.
        #expect(farm.scheduler.progress(job: 1)?.done == 16)
        #expect(farm.scheduler.progress(job: 2)?.done == 0)
    }

    @Test func aSubmitterCapLeavesTheRestOfTheFarmToOthers() {
        var timings = SchedulerTimings(prefetch: 0, stragglerFactor: 0)
        timings.submitterTaskCap = 3
        var s = Scheduler(timings: timings)
        s.addJob(1, owner: "alice", tasks: Self.tasks(50, base: 1000), now: 0)
        s.addJob(2, owner: "alice", tasks: Self.tasks(50, base: 2000), now: 0)
        s.addJob(3, owner: "bob", tasks: Self.tasks(50, base: 3000), now: 0)
        var farm = Farm(s, workers: 8)
        for _ in 0..<4 {
            let byOwner = Dictionary(grouping: farm.held.values.flatMap { $0 }, by: { $0.task < 3000 ? "alice" : "bob" }).mapValues(\.count)
            #expect(byOwner["alice"] ?? 0 <= 3)
            #expect(byOwner["bob"] == 3, "bob is capped too, and the other 2 workers wait")
            _ = farm.round()
        }
        var negative = SchedulerTimings()
        negative.submitterTaskCap = -1
        #expect(negative.problems().contains { $0.hasPrefix("--max-tasks-per-submitter") })
    }

    /// Within a job, tasks go in the page order the shell gives them (``Planner/pageOrder(_:)``),
    /// not by their frames: a keyframe set paged ahead of the chunks it pins goes out ahead of
    /// chunks with earlier frames (decision 0049).
    @Test func withinAJobTasksGoInPageOrder() {
        var s = Scheduler(timings: SchedulerTimings(prefetch: 0, stragglerFactor: 0))
        let stored = [
            StoredTask(id: 10, position: 2, chunk: 0, work: Self.work(start: 4), done: false),
            StoredTask(id: 11, position: 0, chunk: 1, work: Self.work(start: 512), done: false),
            StoredTask(id: 12, position: 1, chunk: 2, work: Self.work(start: 8), done: false),
        ]
        s.addJob(1, tasks: stored, now: 0)
        var farm = Farm(s, workers: 1)
        let order = (0..<3).flatMap { _ in farm.round() }
        #expect(order == [11, 12, 10])
    }
}
