import Foundation
import ReelCore
import ReelPlan
import ReelStore
import Testing

@testable import ReelCoordinator

/// The pipe that wakes the coordinator's poll from the encode and conditioning threads.
@Suite struct LoopWakerTests {
    func readable(_ waker: LoopWaker) -> Bool {
        var item = pollfd(fd: waker.descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&item, 1, 0) == 1 && item.revents & Int16(POLLIN) != 0
    }

    @Test func aWakeIsReadableUntilDrained() throws {
        let waker = try LoopWaker()
        #expect(!readable(waker))
        waker.wake()
        #expect(readable(waker))
        waker.drain()
        #expect(!readable(waker), "drained: the poll sleeps again")
    }

    @Test func wakesBeyondThePipesCapacityNeitherBlockNorAreLost() throws {
        let waker = try LoopWaker()
        // Far more than a pipe holds (64 KiB): the writes past it fail at once instead of blocking.
        for _ in 0..<100_000 { waker.wake() }
        #expect(readable(waker))
        waker.drain()
        #expect(!readable(waker))
        waker.wake()
        #expect(readable(waker))
    }

    @Test func aBuildLandingOnThePoolWakesTheLoop() throws {
        let waker = try LoopWaker()
        let pool = ConditioningPool(threads: 1, waker: waker)
        defer { pool.stop() }
        let spec = JobSpec(
            name: "w", prompt: "p", seconds: 4, fps: 12, width: 32, height: 32, seed: 1, chunkFrames: 24, overlap: 4, output: "o.mp4",
            consistency: .rolling, keyframeEvery: 12)
        let plan = Planner.plan(spec)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("reel-waker-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let artifacts = JobArtifacts(
            job: 1, spec: spec, plan: plan, store: try ArtifactStore(root: root), index: ArtifactIndex(count: plan.units.count))
        let chunk = try #require(plan.unit(.chunks, 0))
        #expect(!readable(waker))
        // Its keyframes are not committed, so the build fails; a failed build lands and wakes the loop too.
        pool.submit(ConditioningPool.Request(task: 7, unit: chunk, serial: 1, artifacts: artifacts), urgent: false)
        var item = pollfd(fd: waker.descriptor, events: Int16(POLLIN), revents: 0)
        #expect(poll(&item, 1, 10_000) == 1, "woken within 10 s")
        let built = pool.takeBuilt()
        #expect(built.map(\.task) == [7])
    }
}
