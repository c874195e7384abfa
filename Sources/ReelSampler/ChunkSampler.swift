import ReelCore
import ReelPlan

/// Samples one chunk with the backend its work names. A pure function of the work: the same
/// work gives the same latents on any worker.
public enum ChunkSampler {
    /// Runs the sampler; `onStep` is called after every Euler step (for heartbeats).
    public static func sample(_ work: ChunkWork, onStep: (Int) -> Void = { _ in }) -> [Float] {
        switch work.backend {
        case .procedural:
            let world = ProceduralWorld(prompt: work.prompt, grid: work.grid)
            var denoiser = ProceduralDenoiser(world: world, region: work.region)
            let noise = NoiseField(seed: work.seed).fill(work.region, channels: work.grid.channels)
            return EulerSampler(schedule: FlowSchedule(steps: work.steps, shift: work.shift))
                .sample(noise: noise, denoiser: &denoiser, onStep: onStep)
        }
    }
}
