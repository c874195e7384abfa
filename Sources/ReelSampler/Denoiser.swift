import ReelCore

/// A model, as the sampler sees it: the posterior mean of the clean latent given a noisy one.
///
/// `x` and `prediction` hold one region in local frames × channels × rows × columns order,
/// where `x = (1−t)·x0 + t·ε`.
public protocol Denoiser {
    /// Writes `E[x0 | x_t = x]` into `prediction` (same count as `x`).
    mutating func predictClean(_ x: [Float], t: Double, into prediction: inout [Float])
}

/// Voxels of a region whose clean value is known (keyframes, a neighbour's committed frames).
public struct PinnedVoxels: Sendable, Hashable {
    /// Local indices into the region's tensor, ascending.
    public var indices: [Int]
    /// The clean values at those indices.
    public var values: [Float]

    public init(indices: [Int], values: [Float]) {
        precondition(indices.count == values.count)
        self.indices = indices
        self.values = values
    }

    public static let none = PinnedVoxels(indices: [], values: [])
}

/// A real model, as the sampler sees it: its own schedule, and the (guided) flow velocity at
/// each of its steps. Implemented by the worker's sidecar client; pure fakes in tests.
public protocol VelocityModel {
    /// Whether the model takes clean frames as such (LTX-Video's per-token timesteps); if not,
    /// pinned frames are conditioned by replacement.
    var conditionsNatively: Bool { get }
    /// The model scheduler's times for `work` (steps + 1 values, the last 0).
    mutating func schedule(for work: ChunkWork) throws -> FlowSchedule
    /// The velocity at step `step` of that schedule for state `x` (the work's local layout);
    /// the local frames `cleanFrames` hold clean values (native conditioning only).
    mutating func velocity(_ x: [Float], step: Int, work: ChunkWork, cleanFrames: [Int]) throws -> [Float]
}
