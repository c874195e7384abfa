/// How a job keeps its chunks consistent with each other.
public enum ConsistencyMode: String, Sendable, Hashable, Codable, CaseIterable {
    /// Chunks sampled alone, then blended: the baseline that shows the problem.
    case independent
    /// Keyframes sampled jointly first, chunks pinned to them, then a seam pass: the default.
    case rolling
    /// Each chunk pinned to the previous chunk's committed tail: serial, the quality reference.
    case autoregressive
}

/// How pinned frames condition a sample.
public enum ConditioningMethod: String, Sendable, Hashable, Codable, CaseIterable {
    /// The backend treats pinned frames as clean observations in its own posterior.
    case native
    /// Model-agnostic: pinned voxels are overwritten with `(1−t)·c + t·ε` before every call.
    case replacement
}

/// The stages of a job, in dependency order; every stage's tasks are rows in the store.
public enum TaskStage: String, Sendable, Hashable, Codable, CaseIterable {
    case keyframes, chunks, seams
    /// Model backends: windows of the stitched latents decoded to pixels by the model's VAE.
    case decode
}

/// Clean data a task is conditioned on, assembled by the coordinator from committed artifacts.
public struct Conditioning: Sendable, Hashable {
    /// Local frame index → that whole frame's clean latents (channels × rows × columns of the region).
    public var pinned: [Int: [Float]]
    /// For refine tasks (seams): the clean estimate the task starts from, re-noised to its strength.
    public var initial: [Float]?

    public init(pinned: [Int: [Float]] = [:], initial: [Float]? = nil) {
        self.pinned = pinned
        self.initial = initial
    }

    public static let none = Conditioning()
}
