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
    /// Diffusers backend: the model and how to call it.
    public var model: ModelSettings?
    /// Diffusers backend: the video's frame rate (LTX-Video's positional encoding uses it).
    public var fps: Int = 0
    /// A decode task: which of the decoded frames to keep. Its region is the latent window to
    /// decode (warm-up frames included), and its conditioning's initial state holds those latents.
    public var decode: DecodeSpan?

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
        model = spec.model
        if spec.model != nil { fps = spec.fps }
    }

    /// Number of frames sampled (for a decode task: latent frames decoded).
    public var frameCount: Int { frames?.count ?? region.frames.count }

    /// The least memory running it takes, in MB: the sampler holds about four Float32 copies
    /// of the result (noise, state, prediction, masks). A model's weights and activations come
    /// on top; those are learnt from out-of-memory failures instead.
    public var estimatedMegabytes: Int { (resultCount * 4 * 4 + (1 << 20) - 1) >> 20 }

    /// Number of values the result holds: latents, or for a decode task the kept frames' pixels
    /// (3 planes in [-1, 1] each).
    public var resultCount: Int {
        if let decode {
            let scale = model?.geometry.spatialCompression ?? 1
            return decode.keepCount * 3 * region.rows.count * scale * region.columns.count * scale
        }
        return frameCount * grid.channels * region.rows.count * region.columns.count
    }
}

/// Which decoded frames a decode task keeps: `keepCount` frames from local frame `keepFrom` of
/// what its latent window decodes to (the rest are a causal VAE's warm-up).
public struct DecodeSpan: Sendable, Hashable, Codable {
    public var keepFrom: Int
    public var keepCount: Int
    /// Decode in spatial tiles (large frames), with the VAE's own overlap blending.
    public var tiled: Bool

    public init(keepFrom: Int, keepCount: Int, tiled: Bool) {
        self.keepFrom = keepFrom
        self.keepCount = keepCount
        self.tiled = tiled
    }
}
