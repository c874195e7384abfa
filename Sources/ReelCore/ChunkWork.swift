/// Everything a worker needs to sample one task, and nothing else: the result is a pure
/// function of these fields and the task's conditioning.
public struct ChunkWork: Sendable, Hashable, Codable {
    public var backend: BackendKind
    public var prompt: String
    public var seed: UInt64
    public var steps: Int
    public var shift: Double
    public var grid: LatentGrid
    public var region: Region
    /// Sparse global frames to sample jointly (keyframes); nil samples every frame of `region`.
    public var frames: [Int]?
    /// Refine instead of sampling from noise: start from the conditioning's initial state
    /// re-noised to this level (the seam pass's strength `s`).
    public var refineStrength: Double?
    public var method: ConditioningMethod
    /// Simulated backend: milliseconds each step costs.
    public var stepMilliseconds: Int = 0

    public init(
        backend: BackendKind, prompt: String, seed: UInt64, steps: Int, shift: Double, grid: LatentGrid, region: Region,
        frames: [Int]? = nil, refineStrength: Double? = nil, method: ConditioningMethod = .native
    ) {
        self.backend = backend
        self.prompt = prompt
        self.seed = seed
        self.steps = steps
        self.shift = shift
        self.grid = grid
        self.region = region
        self.frames = frames
        self.refineStrength = refineStrength
        self.method = method
    }

    /// The work of `chunk` under `spec` (a plain chunk of the first shot's prompt).
    public init(spec: JobSpec, chunk: Chunk) {
        self.init(
            backend: spec.backend, prompt: spec.prompt, seed: spec.seed, steps: spec.steps, shift: spec.shift, grid: spec.grid,
            region: chunk.region, method: spec.conditioning)
        stepMilliseconds = spec.stepMilliseconds
    }

    /// Number of frames sampled.
    public var frameCount: Int { frames?.count ?? region.frames.count }

    /// Number of latent values the result holds.
    public var resultCount: Int { frameCount * grid.channels * region.rows.count * region.columns.count }
}
