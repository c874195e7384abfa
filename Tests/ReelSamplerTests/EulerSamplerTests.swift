import Testing

@testable import ReelSampler

/// A denoiser whose data distribution is one point: the posterior mean is that point.
struct PointDenoiser: Denoiser {
    var target: [Float]
    var calls: [Double] = []
    mutating func predictClean(_ x: [Float], t: Double, into prediction: inout [Float]) {
        calls.append(t)
        prediction = target
    }
}

/// A denoiser that records what it was shown, to observe conditioning.
struct RecordingDenoiser: Denoiser {
    var seen: [[Float]] = []
    mutating func predictClean(_ x: [Float], t: Double, into prediction: inout [Float]) {
        seen.append(x)
        prediction = [Float](repeating: 0, count: x.count)
    }
}

@Suite struct EulerSamplerTests {
    @Test func landsExactlyOnThePosteriorMeanAtTZero() {
        var denoiser = PointDenoiser(target: [0.25, -0.5, 1])
        let sampler = EulerSampler(schedule: FlowSchedule(steps: 5, shift: 3))
        let out = sampler.sample(noise: [2, -1, 0.3], denoiser: &denoiser)
        #expect(out == [0.25, -0.5, 1])
        #expect(denoiser.calls == Array(sampler.schedule.times.dropLast()))
    }

    @Test func eulerStepFollowsTheVelocity() {
        // One step from t=1 to t'=0.5 (steps 2, shift 1): x = x + (0.5 − 1)·(x − x̂0)/1.
        var denoiser = PointDenoiser(target: [1])
        let sampler = EulerSampler(schedule: FlowSchedule(steps: 2, shift: 1))
        var steps: [Int] = []
        _ = sampler.sample(noise: [3], denoiser: &denoiser, onStep: { steps.append($0) })
        #expect(steps == [1, 2])
        var half = PointDenoiser(target: [1])
        let mid = EulerSampler(schedule: FlowSchedule(steps: 2, shift: 1))
            .sample(from: [3], startIndex: 1, noise: [3], denoiser: &half)
        #expect(mid == [1])
    }

    @Test func pinnedVoxelsAreReplacedBeforeEveryCallAndSetAtTheEnd() {
        var denoiser = RecordingDenoiser()
        let noise: [Float] = [0.5, -2, 1]
        let sampler = EulerSampler(schedule: FlowSchedule(steps: 4, shift: 1))
        let out = sampler.sample(noise: noise, denoiser: &denoiser, pinned: PinnedVoxels(indices: [1], values: [0.8]))
        for (x, t) in zip(denoiser.seen, sampler.schedule.times) {
            #expect(abs(x[1] - Float((1 - t) * 0.8 + t * -2)) < 1e-6, "pinned voxel at t=\(t)")
        }
        #expect(out[1] == 0.8)
        #expect(out[0] == 0, "unpinned voxels follow the model")
    }
}
