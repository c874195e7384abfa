import ReelCore

/// The shared flow-matching sampler: Euler steps of `dx/dt = v`, `v = (x_t − x̂0)/t`, with
/// replacement conditioning of pinned voxels.
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
        precondition(start.count == noise.count)
        let times = schedule.times
        var x = start
        var prediction = [Float](repeating: 0, count: x.count)
        for step in startIndex..<schedule.steps {
            let t = times[step], next = times[step + 1]
            replace(&x, pinned: pinned, noise: noise, t: t)
            denoiser.predictClean(x, t: t, into: &prediction)
            // x_next = x + (next − t)·(x − x̂0)/t, written as a blend so that next = 0 gives x̂0 exactly.
            let keep = Float(next / t), take = Float(1 - next / t)
            x.withUnsafeMutableBufferPointer { state in
                prediction.withUnsafeBufferPointer { clean in
                    for i in 0..<state.count { state[i] = keep * state[i] + take * clean[i] }
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
