import ReelCore
import ReelPlan

/// Samples one task with the backend its work names. A pure function of the work and its
/// conditioning: the same inputs give the same latents on any worker.
public enum ChunkSampler {
    /// Runs the sampler. `progress` is called often while work advances (setup and every
    /// Euler step): workers heartbeat from it, so a sampler that stops advancing goes silent.
    /// `stepped` is called after each denoising step: workers report those steps, and the
    /// coordinator keeps a lease only while they advance.
    ///
    /// Pinned frames always get replacement conditioning; with the `native` method the
    /// backend also observes them in its posterior. A refine task starts from the
    /// conditioning's initial state re-noised with the global noise to its strength.
    public static func sample(
        _ work: ChunkWork, conditioning: Conditioning = .none, progress: () -> Void = {}, stepped: () -> Void = {}
    ) -> [Float] {
        switch work.backend {
        case .procedural:
            let world = ProceduralWorld(prompt: work.prompt, grid: work.grid)
            var denoiser = ProceduralDenoiser(world: world, region: work.region, frames: work.frames, progress: progress)
            if work.method == .native { denoiser.pinnedFrames = conditioning.pinned }
            let noise = NoiseField(seed: work.seed).fill(work.region, channels: work.grid.channels, frames: work.frames, progress: progress)
            return run(work, conditioning: conditioning, noise: noise, denoiser: &denoiser, progress: progress, stepped: stepped)
        case .simulated:
            // The same answer as the Euler path (the simulated prediction ignores the state), without its arithmetic.
            let schedule = FlowSchedule(steps: work.steps, shift: work.shift)
            let start = work.refineStrength.flatMap { strength in conditioning.initial.map { _ in schedule.startIndex(strength: strength) } } ?? 0
            return SimulatedDenoiser.sample(work, steps: work.steps - start, pinned: conditioning.pinned, progress: progress, stepped: stepped)
        case .diffusers:
            preconditionFailure("the diffusers backend samples through its model: sample(_:conditioning:model:progress:)")
        }
    }

    /// Samples one task with a real model: the global noise field in the model's latent space,
    /// Reel's Euler steps over the model's own schedule, the model's velocity at each step. Pinned
    /// frames are conditioned natively where the work asks for it and the model can (held clean,
    /// and named to the model), else by replacement (the same for every model).
    public static func sample<Model: VelocityModel>(
        _ work: ChunkWork, conditioning: Conditioning = .none, model: inout Model, progress: () -> Void = {}, stepped: () -> Void = {}
    ) throws -> [Float] {
        let schedule = try model.schedule(for: work)
        let noise = NoiseField(seed: work.seed).fill(work.region, channels: work.grid.channels, frames: work.frames, progress: progress)
        let native = work.method == .native && model.conditionsNatively && !conditioning.pinned.isEmpty
        let clean = native ? conditioning.pinned.keys.sorted() : []
        return try run(
            work, conditioning: conditioning, noise: noise, schedule: schedule, prediction: .velocity, pinClean: native, progress: progress,
            stepped: stepped
        ) { x, step, _, out in out = try model.velocity(x, step: step, work: work, cleanFrames: clean) }
    }

    static func run<D: Denoiser>(
        _ work: ChunkWork, conditioning: Conditioning, noise: [Float], denoiser: inout D, progress: () -> Void, stepped: () -> Void
    )
        -> [Float]
    {
        run(
            work, conditioning: conditioning, noise: noise, schedule: FlowSchedule(steps: work.steps, shift: work.shift), prediction: .clean,
            progress: progress, stepped: stepped
        ) { x, _, t, out in denoiser.predictClean(x, t: t, into: &out) }
    }

    /// Pinned frames and the refine start, then the Euler loop.
    static func run(
        _ work: ChunkWork, conditioning: Conditioning, noise: [Float], schedule: FlowSchedule, prediction: FlowPrediction,
        pinClean: Bool = false, progress: () -> Void, stepped: () -> Void, predict: ([Float], Int, Double, inout [Float]) throws -> Void
    ) rethrows -> [Float] {
        let sampler = EulerSampler(schedule: schedule)
        let perFrame = work.grid.channels * work.region.rows.count * work.region.columns.count
        var indices: [Int] = [], values: [Float] = []
        for frame in conditioning.pinned.keys.sorted() {
            indices += (frame * perFrame)..<((frame + 1) * perFrame)
            values += conditioning.pinned[frame]!
        }
        let pinned = PinnedVoxels(indices: indices, values: values)
        guard let strength = work.refineStrength, let initial = conditioning.initial else {
            return try sampler.run(
                from: noise, startIndex: 0, noise: noise, pinned: pinned, prediction: prediction, pinClean: pinClean,
                onStep: { _ in
                    progress()
                    stepped()
                }, predict: predict)
        }
        let start = schedule.startIndex(strength: strength)
        let t = Float(schedule.times[start])
        let state = zip(initial, noise).map { (1 - t) * $0 + t * $1 }
        return try sampler.run(
            from: state, startIndex: start, noise: noise, pinned: pinned, prediction: prediction, pinClean: pinClean,
            onStep: { _ in
                    progress()
                    stepped()
                }, predict: predict)
    }
}
