/// The backends a job can name in its spec.
public enum BackendKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// Closed-form denoiser of a procedural video world: no weights, no GPU.
    case procedural
    /// Deterministic content at a configurable cost per step, spent sleeping: for measuring
    /// the farm (scheduling, scaling) rather than this machine's CPUs.
    case simulated
    /// A real video model (Wan, LTX-Video) in a diffusers folder, run by the worker's Python sidecar.
    case diffusers
}

/// How a diffusers job calls its model: the folder, its geometry (read from the folder's
/// configs when the spec is loaded), guidance, and how the latents are decoded.
public struct ModelSettings: Sendable, Hashable, Codable {
    /// The model folder (model_index.json and component folders), absolute once loaded.
    public var path: String
    public var geometry: ModelGeometry
    /// Classifier-free guidance scale; 1 or less turns guidance off.
    public var guidanceScale: Double
    public var negativePrompt: String
    public var dtype: ModelDType
    /// Latent frames each decode task keeps.
    public var decodeFrames: Int
    /// Latent frames decoded before a decode task's frames (and after them, for a decoder that is
    /// not causal) and dropped: the VAE's warm-up, so windows decode as the whole video would.
    public var decodeOverlap: Int

    public init(
        path: String, geometry: ModelGeometry, guidanceScale: Double = 5.0, negativePrompt: String = "", dtype: ModelDType = .float32,
        decodeFrames: Int = 8, decodeOverlap: Int = 8
    ) {
        self.path = path
        self.geometry = geometry
        self.guidanceScale = guidanceScale
        self.negativePrompt = negativePrompt
        self.dtype = dtype
        self.decodeFrames = decodeFrames
        self.decodeOverlap = decodeOverlap
    }

    /// Every value out of range, each naming its spec field (specs and TASK messages alike).
    public func problems() -> [SpecProblem] {
        var problems: [SpecProblem] = []
        func fail(_ field: String, _ problem: String) { problems.append(SpecProblem(field: field, problem: problem)) }
        if path.trimmingWhitespace().isEmpty { fail("model", "must not be empty") }
        problems += geometry.problems()
        if !(guidanceScale >= 0 && guidanceScale <= 100) { fail("guidance_scale", "must be between 0 and 100 (got \(guidanceScale))") }
        if negativePrompt.utf8.count > 4096 { fail("negative_prompt", "must be at most 4096 bytes (got \(negativePrompt.utf8.count))") }
        if !(1...1024).contains(decodeFrames) { fail("decode_frames", "must be between 1 and 1024 (got \(decodeFrames))") }
        if !(1...64).contains(decodeOverlap) { fail("decode_overlap", "must be between 1 and 64 (got \(decodeOverlap))") }
        return problems
    }
}

/// A validated render job: what to render, how to split it, where to write it.
///
/// Built from TOML with ``JobSpecParser``; every field has been checked, so planning a valid
/// spec cannot fail.
public struct JobSpec: Sendable, Hashable, Codable {
    public var name: String
    public var prompt: String
    public var seconds: Double
    public var fps: Int
    public var width: Int
    public var height: Int
    public var seed: UInt64
    public var backend: BackendKind
    public var steps: Int
    /// Timestep shift of the flow-matching schedule (1 = unshifted).
    public var shift: Double
    /// Simulated backend: milliseconds each denoising step costs (spent sleeping).
    public var stepMilliseconds: Int = 0
    /// When several jobs share the farm, ready tasks of a higher priority go first (-100 to
    /// 100; nil, stored by older versions, means 0). Equal priorities go first-come first-served.
    public var priority: Int?
    /// Where to POST a signed notice when the job is done, failed or cancelled (http or https;
    /// its host must be one the coordinator allows). Nil: the coordinator's default, if any.
    public var notifyURL: String?
    /// Latent frames per chunk (time window length).
    public var chunkFrames: Int
    /// Minimum latent frames shared by neighbouring time windows.
    public var overlap: Int
    /// Spatial tile size in latent pixels; 0 means the full frame.
    public var tileWidth: Int
    public var tileHeight: Int
    /// Minimum latent pixels shared by neighbouring spatial tiles.
    public var tileOverlap: Int
    /// Where the MP4 goes (absolute once submitted).
    public var output: String
    /// Optional folder for one PNG per frame.
    public var pngDirectory: String?
    /// How chunks are kept consistent with each other.
    public var consistency: ConsistencyMode
    /// How pinned frames condition a sample.
    public var conditioning: ConditioningMethod
    /// Rolling mode: a keyframe every this many latent frames (sampled per shot, coarse to fine).
    public var keyframeEvery: Int

    /// Rolling mode: the most keyframes one keyframe set samples, its pinned anchors included
    /// (decision 0035): as many frames as a chunk has, so a model is never asked for a longer
    /// clip than it samples anyway, and at least 3 (two anchors and one new keyframe).
    public var keyframeCapacity: Int { max(3, chunkFrames) }

    /// The keyframe spacing when a spec gives none: 24 frames, or less where the chunks
    /// advance less, so that every chunk is pinned to at least one keyframe.
    public static func defaultKeyframeEvery(chunkFrames: Int, overlap: Int) -> Int { max(1, min(24, chunkFrames - overlap)) }
    /// Rolling mode: how far a seam window is re-noised before it is denoised again (0-1].
    public var seamStrength: Double
    /// A prompt schedule: each shot starts at `start` seconds (the first at 0). Empty: one shot of `prompt`.
    public var shots: [Shot]
    /// The diffusers backend's model; nil for the other backends.
    public var model: ModelSettings?

    /// One shot of a multi-shot prompt schedule.
    public struct Shot: Sendable, Hashable, Codable {
        public var prompt: String
        public var start: Double
        public init(prompt: String, start: Double) {
            self.prompt = prompt
            self.start = start
        }
    }

    /// The shots as (prompt, first latent frame), one shot of `prompt` when none are given.
    public var shotSchedule: [(prompt: String, startFrame: Int)] {
        shots.isEmpty
            ? [(prompt, 0)]
            : shots.map { shot in
                let pixel = Int((shot.start * Double(fps)).rounded())
                return (shot.prompt, model.map { $0.geometry.latentFrame(ofPixel: pixel) } ?? pixel)
            }
    }

    /// Number of video frames (for the procedural and simulated backends, latent frames too).
    public var frameCount: Int { Int((seconds * Double(fps)).rounded()) }

    /// Latent channels per frame.
    public var latentChannels: Int { model?.geometry.latentChannels ?? 3 }
    /// Pixels per latent pixel, each way.
    public var spatialCompression: Int { max(1, model?.geometry.spatialCompression ?? 1) }
    /// Width and height must be multiples of these.
    public var widthMultiple: Int { max(1, model?.geometry.widthMultiple ?? 16) }
    public var heightMultiple: Int { max(1, model?.geometry.heightMultiple ?? 16) }

    /// Values one task's result may hold under ``JobSpecParser``'s limits.
    public static let maxResultValues = 1 << 27
    /// The largest message any valid job makes (a result of ``maxResultValues`` 2-byte values,
    /// plus headroom for headers, conditioning and a spec): peers' sockets refuse larger ones.
    public static let maxMessageBytes = Int64(maxResultValues) * 2 + (64 << 20)

    /// The job's dispatch priority (0 when not given).
    public var dispatchPriority: Int { priority ?? 0 }

    /// The latent grid this spec renders.
    public var grid: LatentGrid {
        LatentGrid(
            frames: model.map { $0.geometry.latentFrames(forPixelFrames: frameCount) } ?? frameCount, channels: latentChannels,
            height: height / spatialCompression, width: width / spatialCompression)
    }

    public init(
        name: String, prompt: String, seconds: Double, fps: Int, width: Int, height: Int, seed: UInt64,
        backend: BackendKind = .procedural, steps: Int = 10, shift: Double = 3.0, chunkFrames: Int = 48,
        overlap: Int = 8, tileWidth: Int = 0, tileHeight: Int = 0, tileOverlap: Int = 16,
        output: String, pngDirectory: String? = nil, consistency: ConsistencyMode = .rolling,
        conditioning: ConditioningMethod = .native, keyframeEvery: Int? = nil, seamStrength: Double = 0.5, shots: [Shot] = [],
        model: ModelSettings? = nil
    ) {
        self.name = name
        self.prompt = prompt
        self.seconds = seconds
        self.fps = fps
        self.width = width
        self.height = height
        self.seed = seed
        self.backend = backend
        self.steps = steps
        self.shift = shift
        self.chunkFrames = chunkFrames
        self.overlap = overlap
        self.tileWidth = tileWidth
        self.tileHeight = tileHeight
        self.tileOverlap = tileOverlap
        self.output = output
        self.pngDirectory = pngDirectory
        self.consistency = consistency
        self.conditioning = conditioning
        self.keyframeEvery = keyframeEvery ?? Self.defaultKeyframeEvery(chunkFrames: chunkFrames, overlap: overlap)
        self.seamStrength = seamStrength
        self.shots = shots
        self.model = model
    }
}
