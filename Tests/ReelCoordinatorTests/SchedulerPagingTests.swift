import ReelCore
import ReelWire
import Testing

@testable import ReelCoordinator

/// A job longer than the scheduler's window: its tasks are paged in from the store in plan
/// order as earlier ones commit, so memory stays flat however long the video.
@Suite struct SchedulerPagingTests {
    /// The store's side, in memory: the job's tasks and which are committed.
    struct Rows {
        var tasks: [StoredTask]
        var committed: Set<Int64> = []

        func page(_ request: TaskPageRequest) -> [StoredTask] {
            Array(tasks.filter { $0.id > request.after && !committed.contains($0.id) }.prefix(request.count))
        }
    }

    /// 40 tasks; each fifth one waits for the four before it (like a seam for its chunks).
    func rows() -> Rows {
        Rows(
            tasks: (0..<40).map { index in
                var task = StoredTask(id: Int64(1000 + index), chunk: index, work: SchedulerDispatchTests.work(frames: 8), done: false)
                if index % 5 == 4 { task.dependencies = (1...4).map { Int64(1000 + index - $0) } }
                return task
            })
    }

    @Test func aJobLongerThanTheWindowIsPagedInAndFinishesWithBoundedMemory() {
        let window = 8
        var store = rows()
        var s = Scheduler(timings: SchedulerTimings(prefetch: 1, residentTasks: window))
        let first = store.page(TaskPageRequest(job: 1, after: .min, count: window))
        s.addJob(1, tasks: first, total: 40, remaining: 40, through: first.last!.id, allLoaded: false, now: 0)
        #expect(s.residentTaskCount == window)
        var running = SchedulerDispatchTests().leases(
            s.handle(.workerReady("a", SchedulerTests.hello), now: 0) + s.handle(.workerReady("b", SchedulerTests.hello), now: 0))
        var order: [Int64] = []
        var now = 1.0
        var mostResident = 0
        while !running.isEmpty {
            let (worker, lease) = running.removeFirst()
            var out = s.handle(.resultArrived(worker, lease), now: now) + s.handle(.committed(lease), now: now)
            store.committed.insert(lease.task)
            order.append(lease.task)
            for request in s.wantedPages() {
                #expect(request.job == 1 && request.count <= window)
                let page = store.page(request)
                out += s.addTasks(
                    page, job: 1, through: page.last?.id ?? 1039, allLoaded: page.count < request.count, now: now)
            }
            // The shell builds the conditioning of every task that waits for it.
            out += s.handle(.conditioned(s.awaitingConditioning(perJob: window).map(\.task)), now: now)
            mostResident = max(mostResident, s.residentTaskCount)
            running += SchedulerDispatchTests().leases(out)
            now += 1
        }
        #expect(Set(order) == Set(store.tasks.map(\.id)), "every task ran")
        #expect(order.count == 40, "each exactly once")
        #expect(mostResident <= window, "never more than the window in memory (at most \(mostResident))")
        #expect(s.residentTaskCount == 0, "committed tasks leave memory")
        #expect(s.progress(job: 1)! == (40, 40))
        for task in store.tasks {
            let position = order.firstIndex(of: task.id)!
            for dependency in task.dependencies {
                #expect(order.firstIndex(of: dependency)! < position, "\(task.id) ran after its dependency \(dependency)")
            }
        }
        #expect(s.state(job: 1) == .encoding)
    }

    @Test func aBigWindowIsRefilledAPageOf256TasksAtATime() {
        let tasks = (0..<5000).map {
            StoredTask(id: Int64(1000 + $0), chunk: $0, work: SchedulerDispatchTests.work(frames: 8), done: false)
        }
        var s = Scheduler(timings: SchedulerTimings(prefetch: 0, residentTasks: 4096))
        let first = Array(tasks.prefix(4096))
        s.addJob(1, tasks: first, total: 5000, remaining: 5000, through: first.last!.id, allLoaded: false, now: 0)
        var leases: [(WorkerID, LeaseRef)] = []
        for index in 0..<300 {
            leases += SchedulerDispatchTests().leases(s.handle(.workerReady("w\(index)", SchedulerTests.hello), now: 0))
        }
        var committed = 0
        while s.wantedPages().isEmpty, let (worker, lease) = leases.first {
            leases.removeFirst()
            leases += SchedulerDispatchTests().leases(SchedulerDispatchTests().finish(&s, worker, lease, now: 1))
            committed += 1
        }
        #expect(committed == 256, "a page (256 tasks) below the window of 4,096")
        #expect(s.wantedPages() == [TaskPageRequest(job: 1, after: first.last!.id, count: 256)])
    }

    @Test func noPagesAreAskedForWhileTheWindowIsFullOrTheJobIsPaused() {
        var store = rows()
        var s = Scheduler(timings: SchedulerTimings(prefetch: 0, residentTasks: 8))
        let first = store.page(TaskPageRequest(job: 1, after: .min, count: 8))
        s.addJob(1, tasks: first, total: 40, remaining: 40, through: first.last!.id, allLoaded: false, now: 0)
        #expect(s.wantedPages().isEmpty, "a full window")
        let lease = SchedulerDispatchTests().leases(s.handle(.workerReady("a", SchedulerTests.hello), now: 0))[0].1
        var handedOut = SchedulerDispatchTests().finish(&s, "a", lease, now: 1)
        store.committed.insert(lease.task)
        #expect(s.wantedPages().isEmpty, "7 of 8 resident: above the refill mark")
        _ = s.handle(.control(job: 1, .pause), now: 2)
        #expect(s.wantedPages().isEmpty, "a paused job is not paged")
        _ = s.handle(.control(job: 1, .resume), now: 3)
        var committed = 1
        while s.wantedPages().isEmpty, let lease = SchedulerDispatchTests().leases(handedOut).first?.1 {
            handedOut = SchedulerDispatchTests().finish(&s, "a", lease, now: 5)
            committed += 1
        }
        #expect(committed == 2, "the refill mark: a quarter of the window below full (6 of 8 resident)")
        #expect(s.wantedPages() == [TaskPageRequest(job: 1, after: first.last!.id, count: 2)])
    }
}
