import ReelCore
import ReelWire
import Testing

@testable import ReelCoordinator

/// Model backends in the pure scheduler: tasks go only to workers that offer their model, a job
/// nobody can run says why, and a worker is kept on the model it has loaded.
@Suite struct SchedulerModelTests {
    static func work(model path: String) -> ChunkWork {
        var work = ChunkWork(
            backend: .diffusers, prompt: "p", seed: 1, steps: 4, shift: 3, grid: LatentGrid(frames: 8, channels: 16, height: 8, width: 8),
            region: Region(frames: 0..<8, rows: 0..<8, columns: 0..<8))
        work.model = ModelSettings(
            path: path, geometry: ModelGeometry(
                pipeline: "WanPipeline", family: "wan", latentChannels: 16, temporalCompression: 4, spatialCompression: 8, patchFrames: 1,
                patchHeight: 2, patchWidth: 2, decoderCausal: true))
        return work
    }

    static func hello(_ name: String, models: [String]) -> WorkerHello {
        WorkerHello(name: name, backends: ["diffusers"], slots: 1, memoryMegabytes: 1, tags: [], models: models, device: "cpu")
    }

    func scheduler() -> Scheduler {
        Scheduler(
            timings: SchedulerTimings(
                heartbeatSeconds: 1, workerTimeoutSeconds: 5, leaseSeconds: 30, maxFailures: 2, retryBackoffSeconds: 0, prefetch: 0))
    }

    func dispatched(_ directives: [SchedulerDirective]) -> [(WorkerID, Int64)] {
        directives.compactMap { if case .dispatch(let w, let a, _, _, _) = $0 { return (w, a.lease.task) } else { return nil } }
    }

    @Test func onlyAWorkerOfferingTheModelGetsItsTasksAndTheWaitIsExplained() {
        var s = scheduler()
        s.addJob(1, tasks: [StoredTask(id: 10, chunk: 0, work: Self.work(model: "/m/wan"), done: false)], now: 0)
        #expect(dispatched(s.handle(.workerReady("ltx-only", Self.hello("ltx-only", models: ["/m/ltx"])), now: 0)).isEmpty)
        var procedural = Self.hello("cpu", models: [])
        procedural.backends = ["procedural"]
        #expect(dispatched(s.handle(.workerReady("cpu", procedural), now: 0)).isEmpty)
        let reason = s.waitingReason(job: 1)
        #expect(reason == "waiting: no live worker can run it (it needs the diffusers backend with model /m/wan; 2 worker(s) connected)")
        #expect(dispatched(s.handle(.workerReady("any", Self.hello("any", models: ["*"])), now: 0)).map(\.0) == ["any"])
        #expect(s.waitingReason(job: 1) == nil)
    }

    @Test func aWorkerStaysOnTheModelItHasLoaded() {
        var s = scheduler()
        // Job 1 (model A) is older, so its tasks come first in dispatch order; job 2 uses model B.
        s.addJob(1, tasks: (0..<3).map { StoredTask(id: Int64(10 + $0), chunk: $0, work: Self.work(model: "/m/a"), done: false) }, now: 0)
        s.addJob(2, tasks: (0..<3).map { StoredTask(id: Int64(20 + $0), chunk: $0, work: Self.work(model: "/m/b"), done: false) }, now: 0)
        let first = dispatched(s.handle(.workerReady("w", Self.hello("w", models: ["*"])), now: 0))
        #expect(first.map(\.1) == [10], "a cold worker takes the first task in order")
        var warmB = s
        // Pretend w ran model B last: with a job-1 task first in line, it still takes job 2's.
        warmB.workers["w"]?.warmModel = "/m/b"
        warmB.workers["w"]?.leases.removeAll()
        #expect(dispatched(warmB.handle(.tick, now: 1)).map(\.1) == [20], "the warm model's task, same priority")
        // Once w runs model A, it keeps taking model A's tasks.
        // (The next task is dispatched as the result arrives, before it commits.)
        var next = dispatched(s.handle(.resultArrived("w", LeaseRef(task: 10, attempt: 1)), now: 1))
        next += dispatched(s.handle(.committed(LeaseRef(task: 10, attempt: 1)), now: 1))
        #expect(next.map(\.1) == [11])
    }

    @Test func outOfMemorySendsTheTaskToAWorkerWithMoreOrFailsTheJob() {
        var s = scheduler()
        s.addJob(1, tasks: [StoredTask(id: 10, chunk: 0, work: Self.work(model: "/m/wan"), done: false)], now: 0)
        var small = Self.hello("a-small", models: ["*"]), big = Self.hello("b-big", models: ["*"])
        small.memoryMegabytes = 16
        big.memoryMegabytes = 80_000
        #expect(dispatched(s.handle(.workerReady("a-small", small), now: 0)).map(\.0) == ["a-small"])
        var alone = s
        let failed = alone.handle(.taskFailed("a-small", LeaseRef(task: 10, attempt: 1), reason: "out of memory: predict", outOfMemory: true), now: 1)
        let reasons = failed.compactMap { if case .setJobState(_, .failed, let reason) = $0 { reason } else { nil } }
        #expect(reasons == ["out of memory: no live worker has more than 16 MB; last on a-small: out of memory: predict"])
        _ = s.handle(.workerReady("b-big", big), now: 0)
        let moved = s.handle(.taskFailed("a-small", LeaseRef(task: 10, attempt: 1), reason: "out of memory", outOfMemory: true), now: 1)
        #expect(!moved.contains { if case .setJobState(_, .failed, _) = $0 { true } else { false } }, "a bigger worker is live")
        let next = dispatched(moved) + dispatched(s.handle(.tick, now: 5))
        #expect(next.map(\.0) == ["b-big"], "only a worker with more memory than the one that ran out")
        var other = s
        other.workers["b-big"] = nil
        #expect(dispatched(other.handle(.tick, now: 60)).isEmpty, "the small worker never gets it back")
    }
}
