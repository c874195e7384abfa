import Foundation
import ReelCore
import ReelMetrics
import ReelPlan
import ReelStitch
import Testing

@testable import ReelSampler

/// The consistency pipeline against the procedural oracle, run in-process exactly as the farm
/// runs it (see `Reference.run`), on a small spec so it stays fast in a debug build.
@Suite(.serialized) struct ConsistencyTests {
    func report(_ mode: ConsistencyMode, seed: UInt64 = 7, shots: [JobSpec.Shot] = []) throws -> ConsistencyReport {
        let spec = JobSpec(
            name: "c", prompt: "three kites drifting over rolling hills at dusk", seconds: 12, fps: 12, width: 96, height: 48,
            seed: seed, steps: 8, chunkFrames: 24, overlap: 6, output: "/unused.mp4", consistency: mode, keyframeEvery: 12, shots: shots)
        let run = try Reference.run(spec)
        var frames = FrameMetrics(plan: run.plan, fps: spec.fps, width: spec.width, height: spec.height)
        let seams = SeamOverride(plan: run.plan) { run.outputs[$0]! }
        let load = { (chunk: Chunk) in run.outputs[run.plan.unit(.chunks, chunk.index)!]! }
        _ = try VideoAssembler.stitch(spec: spec, plan: run.plan, load: load, override: seams.frame) { _, rgb in frames.add(rgb) }
        return try ConsistencyScorer.score(spec: spec, plan: run.plan, frames: frames.report()) { run.outputs[$0]! }
    }

    @Test func independentChunksDisagreeAndRollingRemovesIt() throws {
        let independent = try report(.independent)
        #expect(independent.seamsDisagreeing * 2 > independent.neighbourPairs, "most independent seams disagree: \(independent)")
        #expect(independent.overlapDisagreement > 0.01)
        let rolling = try report(.rolling)
        #expect(rolling.takeDisagreements == 0 && rolling.takesAgainstMajority == 0, "keyframes fix the take: \(rolling)")
        #expect(rolling.pathDisagreements == 0 && rolling.seamsDisagreeing == 0, "the seam pass leaves no path disagreement: \(rolling)")
        // Independent chunks disagree on the take (checked above), so they drift more.
        #expect(independent.takeDisagreements > 0, "\(independent)")
        #expect(rolling.frames.drift < independent.frames.drift, "rolling \(rolling.frames), independent \(independent.frames)")
        // Blended ghosts and jumping sprites are change that motion does not explain.
        #expect(rolling.frames.flicker < independent.frames.flicker, "rolling \(rolling.frames), independent \(independent.frames)")
    }

    @Test func keyframesAloneLeavePathDisagreementsThatTheSeamPassRemoves() throws {
        // Chunks pinned to keyframes agree on the take, but may still disagree on a sprite's path
        // where they overlap: that is the seam pass's job.
        let rolling = try report(.rolling, seed: 11)
        #expect(rolling.chunkTakeDisagreements == 0)
        #expect(rolling.chunkPathDisagreements > 0, "this seed has path disagreements before the seam pass: \(rolling)")
        #expect(rolling.pathDisagreements == 0)
    }

    @Test func multiShotPromptsCutAtThePlannedBoundaryAndStayConsistentWithinEachShot() throws {
        let shots: [JobSpec.Shot] = [.init(prompt: "kites at dawn", start: 0), .init(prompt: "boats at night", start: 6)]
        let report = try report(.rolling, seed: 5, shots: shots)
        // The scorer reads each shot's windows with that shot's world and compares only within shots.
        #expect(report.neighbourPairs > 0)
        #expect(report.seamsDisagreeing == 0 && report.takesAgainstMajority == 0, "\(report)")
        let spec = JobSpec(name: "c", prompt: "x", seconds: 12, fps: 12, width: 96, height: 48, seed: 5, output: "/u.mp4", shots: shots)
        let plan = Planner.plan(spec)
        #expect(plan.shots.map(\.frames) == [0..<72, 72..<144], "the change is at 6 s, a planned window boundary")
        #expect(plan.windows.allSatisfy { $0.upperBound <= 72 || $0.lowerBound >= 72 })
        let worlds = shots.map { ProceduralWorld(prompt: $0.prompt, grid: spec.grid) }
        #expect(worlds[0].sky != worlds[1].sky, "each shot renders its own prompt's world")
    }

    @Test func autoregressiveChunksAgreeExactlyInTheirOverlaps() throws {
        let serial = try report(.autoregressive)
        #expect(serial.overlapDisagreement == 0)
        #expect(serial.chunkTakeDisagreements == 0 && serial.chunkPathDisagreements == 0)
    }
}
