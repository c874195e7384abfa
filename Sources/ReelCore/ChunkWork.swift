/// Everything a worker needs to sample one chunk, and nothing else: the result is a pure
/// function of these fields.
public struct ChunkWork: Sendable, Hashable, Codable {
    public var backend: BackendKind
    public var prompt: String
    public var seed: UInt64
    public var steps: Int
    public var shift: Double
    public var grid: LatentGrid
    public var region: Region

    public init(backend: BackendKind, prompt: String, seed: UInt64, steps: Int, shift: Double, grid: LatentGrid, region: Region) {
        self.backend = backend
        self.prompt = prompt
        self.seed = seed
        self.steps = steps
        self.shift = shift
        self.grid = grid
        self.region = region
    }

    /// The work of `chunk` under `spec`.
    public init(spec: JobSpec, chunk: Chunk) {
        self.init(
            backend: spec.backend, prompt: spec.prompt, seed: spec.seed, steps: spec.steps, shift: spec.shift,
            grid: spec.grid, region: chunk.region)
    }

    /// Number of latent values the result holds.
    public var resultCount: Int { region.frames.count * grid.channels * region.rows.count * region.columns.count }
}
