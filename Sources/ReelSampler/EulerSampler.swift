import ReelCore

/// What a model's prediction is.
public enum FlowPrediction: Sendable {
    /// The clean sample `x̂0`; the step is `x ← (t'/t)·x + (1 − t'/t)·x̂0`.
    case clean
    /// The velocity `v = ε − x0`; the step is `x ← x + (t' − t)·v`, as diffusers' Euler scheduler takes it.
    case velocity
}

/// The shared flow-matching sampler: Euler steps of `dx/dt = v` with replacement conditioning
/// of pinned voxels, for models that predict the clean sample or the velocity.
public struct EulerSampler: Sendable {
    public var schedule: FlowSchedule

    public init(schedule: FlowSchedule) { self.schedule = schedule }

    /// Samples from pure noise (`t = 1`) down to `t = 0`.
    ///
    /// Before every model call each pinned voxel is overwritten with `(1−t)·c + t·ε` (the same
    /// global `ε`), and at the end set to `c`. `onStep` runs after every step with the step
    /// number (1-based); workers use it to heartbeat from inside the sampling loop.
    public func sample<D: Denoiser>(
        noise: [Float], denoiser: inout D, pinned: PinnedVoxels = .none,
        onStep: (Int) -> Void = { _ in }
    ) -> [Float] {
        sample(from: noise, startIndex: 0, noise: noise, denoiser: &denoiser, pinned: pinned, onStep: onStep)
    }

    /// Runs the schedule from `times[startIndex]` with `x` as the state at that time.
    public func sample<D: Denoiser>(
        from start: [Float], startIndex: Int, noise: [Float], denoiser: inout D,
        pinned: PinnedVoxels = .none, onStep: (Int) -> Void = { _ in }
    ) -> [Float] {
        run(from: start, startIndex: startIndex, noise: noise, pinned: pinned, prediction: .clean, onStep: onStep) { x, _, t, out in
            denoiser.predictClean(x, t: t, into: &out)
        }
    }

    /// The loop itself: `predict(x, step, t, into)` writes the model's prediction of kind
    /// `prediction`. With `pinClean`, pinned voxels are held at their clean values before each
    /// call (a model that conditions natively knows them as clean), not noised to the step's level.
    public func run(
        from start: [Float], startIndex: Int, noise: [Float], pinned: PinnedVoxels, prediction kind: FlowPrediction,
        pinClean: Bool = false, onStep: (Int) -> Void,
        predict: (_ x: [Float], _ step: Int, _ t: Double, _ into: inout [Float]) throws -> Void
    ) rethrows -> [Float] {
        precondition(start.count == noise.count)
        let times = schedule.times
        var x = start
        var prediction = [Float](repeating: 0, count: x.count)
        for step in startIndex..<schedule.steps {
            let t = times[step], next = times[step + 1]
            replace(&x, pinned: pinned, noise: noise, t: pinClean ? 0 : t)
            try predict(x, step, t, &prediction)
            precondition(prediction.count == x.count, "a model returned \(prediction.count) values for \(x.count)")
            x.withUnsafeMutableBufferPointer { state in
                prediction.withUnsafeBufferPointer { predicted in
                    switch kind {
                    case .clean:
                        // x_next = x + (next − t)·(x − x̂0)/t, written as a blend so that next = 0 gives x̂0 exactly.
                        let keep = Float(next / t), take = Float(1 - next / t)
                        for i in 0..<state.count { state[i] = keep * state[i] + take * predicted[i] }
                    case .velocity:
                        let delta = Float(next) - Float(t)
                        for i in 0..<state.count { state[i] += delta * predicted[i] }
                    }
                }
            }
            onStep(step + 1)
        }
        for (index, value) in zip(pinned.indices, pinned.values) { x[index] = value }
        return x
    }

    private func replace(_ x: inout [Float], pinned: PinnedVoxels, noise: [Float], t: Double) {
        let signal = Float(1 - t), sigma = Float(t)
        for (index, value) in zip(pinned.indices, pinned.values) {
            x[index] = signal * value + sigma * noise[index]
        }
    }
}
