import ReelCore
import Testing

@testable import ReelCoordinator

/// The conditioning kept for tasks waiting in a worker's queue, for their backups.
@Suite struct QueuedConditioningsTests {
    let first = Conditioning(pinned: [0: [1, 2, 3]])
    let second = Conditioning(initial: [4, 5])

    @Test func aQueuedTasksConditioningIsKeptUntilItsWorkerDeliversAResult() {
        var kept = QueuedConditionings()
        kept.keep(task: 10, job: 1, worker: "a", first)
        kept.keep(task: 20, job: 1, worker: "b", second)
        #expect(kept.conditioning(task: 10) == first)
        #expect(kept.conditioning(task: 20) == second)
        kept.advanced("a")
        #expect(kept.conditioning(task: 10) == nil, "a's queue moved on: its queued task runs")
        #expect(kept.conditioning(task: 20) == second, "b's is still queued")
        #expect(kept.count == 1)
    }

    @Test func aStoppedJobsConditioningIsForgotten() {
        var kept = QueuedConditionings()
        kept.keep(task: 10, job: 1, worker: "a", first)
        kept.keep(task: 30, job: 2, worker: "a", second)
        kept.forget(job: 1)
        #expect(kept.conditioning(task: 10) == nil)
        #expect(kept.conditioning(task: 30) == second)
        kept.advanced("a")
        #expect(kept.count == 0)
    }
}
