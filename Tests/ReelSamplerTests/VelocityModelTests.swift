import ReelCore
import ReelPlan
import Testing

@testable import ReelSampler

/// A pure stand-in for a real model: records what it is called with, answers a fixed velocity.
private struct RecordingModel: VelocityModel {
    let conditionsNatively: Bool
    var calls: [(x: [Float], step: Int, clean: [Int])] = []

    func schedule(for work: ChunkWork) throws -> FlowSchedule { FlowSchedule(times: [1, 0.75, 0.5, 0]) }

    mutating func velocity(_ x: [Float], step: Int, work: ChunkWork, cleanFrames: [Int]) throws -> [Float] {
        calls.append((x, step, cleanFrames))
        return [Float](repeating: 0.5, count: x.count)
    }
}

@Suite struct VelocityModelTests {
    static func work(method: ConditioningMethod) -> ChunkWork {
        ChunkWork(
            backend: .diffusers, prompt: "p", seed: 3, steps: 3, shift: 1, grid: LatentGrid(frames: 4, channels: 2, height: 2, width: 2),
            region: Region(frames: 0..<4, rows: 0..<2, columns: 0..<2), method: method)
    }

    static let clean: [Float] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    static let conditioning = Conditioning(pinned: [2: clean])

    @Test func eulerStepsFollowTheModelsOwnScheduleAndVelocity() throws {
        var model = RecordingModel(conditionsNatively: false)
        let work = Self.work(method: .replacement)
        let out = try ChunkSampler.sample(work, model: &model)
        let noise = NoiseField(seed: 3).fill(work.region, channels: 2)
        #expect(model.calls.map(\.step) == [0, 1, 2])
        // x0 = ε + Σ (σ' − σ)·v = ε − 1·0.5, with the steps' deltas in float32.
        for (value, start) in zip(out, noise) { #expect(abs(value - (start - 0.5)) < 1e-6) }
    }

    @Test func aModelThatConditionsNativelySeesPinnedFramesClean() throws {
        var model = RecordingModel(conditionsNatively: true)
        let out = try ChunkSampler.sample(Self.work(method: .native), conditioning: Self.conditioning, model: &model)
        for call in model.calls {
            #expect(call.clean == [2])
            #expect(Array(call.x[16..<24]) == Self.clean, "frame 2 is held at its clean values before every call")
        }
        #expect(Array(out[16..<24]) == Self.clean)
    }

    @Test func otherwisePinnedFramesAreNoisedToEachStepsLevel() throws {
        for (method, natively) in [(ConditioningMethod.replacement, true), (.native, false)] {
            var model = RecordingModel(conditionsNatively: natively)
            let work = Self.work(method: method)
            let out = try ChunkSampler.sample(work, conditioning: Self.conditioning, model: &model)
            let noise = NoiseField(seed: 3).fill(work.region, channels: 2)
            let times: [Float] = [1, 0.75, 0.5]
            for (call, t) in zip(model.calls, times) {
                #expect(call.clean.isEmpty)
                for i in 0..<8 { #expect(abs(call.x[16 + i] - ((1 - t) * Self.clean[i] + t * noise[16 + i])) < 1e-6) }
            }
            #expect(Array(out[16..<24]) == Self.clean, "pinned frames end at their clean values")
        }
    }
}
