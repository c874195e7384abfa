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
