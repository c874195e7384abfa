import Foundation
import ReelClient
import ReelCoordinator
import ReelCore
import ReelPlan
import ReelSampler
import ReelStitch

/// The benchmark suite's sections. Each returns rows for the printed table and the JSON.
struct BenchSections {
    let scratch: String
    let quick: Bool
    /// A farm whose workers yield to the coordinator, except in a `quick` run: that is a check
    /// that the suite runs, often beside other work (the test suite), which would starve them.
    var farm: BenchFarm { BenchFarm(scratch: scratch, workersYield: !quick) }

    func simulatedSpec(
        _ name: String, seconds: Double, size: Int = 32, chunk: Int, overlap: Int, steps: Int, stepMilliseconds: Int,
        consistency: ConsistencyMode = .independent
    ) -> JobSpec {
        var spec = JobSpec(
            name: name, prompt: "a long drive along the coast", seconds: seconds, fps: 24, width: size, height: size, seed: 7,
            backend: .simulated, steps: steps, chunkFrames: chunk, overlap: overlap, output: "\(scratch)/\(name).mp4",
            consistency: consistency)
        spec.stepMilliseconds = stepMilliseconds
        return spec
    }
}
