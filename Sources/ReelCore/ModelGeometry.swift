import Foundation

/// The latent grid a diffusers model works on, read from its folder's configs (no weights, no
/// torch): the planner maps a spec's pixel frames and size onto it.
public struct ModelGeometry: Sendable, Hashable, Codable {
    /// The diffusers pipeline class (model_index.json's `_class_name`).
    public var pipeline: String
    /// The family that drives it (`wan`, `ltx`).
    public var family: String
    public var latentChannels: Int
    /// Pixel frames per latent frame after the first (k latent frames decode to 1 + r(k−1) frames).
    public var temporalCompression: Int
    /// Pixels per latent pixel, each way.
    public var spatialCompression: Int
    /// The transformer's patch (frames, rows, columns), in latent units.
    public var patchFrames: Int
    public var patchHeight: Int
    public var patchWidth: Int
    /// Whether the VAE's decoder is causal in time (a frame depends only on earlier latents):
    /// then a decode window needs warm-up latents before it only.
    public var decoderCausal: Bool

    public init(
        pipeline: String, family: String, latentChannels: Int, temporalCompression: Int, spatialCompression: Int,
        patchFrames: Int, patchHeight: Int, patchWidth: Int, decoderCausal: Bool = false
    ) {
        self.decoderCausal = decoderCausal
        self.pipeline = pipeline
        self.family = family
        self.latentChannels = latentChannels
        self.temporalCompression = temporalCompression
        self.spatialCompression = spatialCompression
        self.patchFrames = patchFrames
        self.patchHeight = patchHeight
        self.patchWidth = patchWidth
    }

    /// Width and height must be multiples of these (VAE compression times transformer patch).
    public var heightMultiple: Int { spatialCompression * patchHeight }
    public var widthMultiple: Int { spatialCompression * patchWidth }

    /// Latent frames that decode to at least `pixelFrames` frames (the causal first-frame rule:
    /// the next valid length, trimmed after decoding).
    public func latentFrames(forPixelFrames pixelFrames: Int) -> Int {
        pixelFrames <= 1 ? 1 : (pixelFrames - 2) / max(1, temporalCompression) + 2
    }

    /// Pixel frames that `latentFrames` latent frames decode to.
    public func pixelFrames(forLatentFrames latentFrames: Int) -> Int {
        latentFrames <= 0 ? 0 : 1 + temporalCompression * (latentFrames - 1)
    }

    /// The latent frame that holds pixel frame `pixel` (0 holds only the first).
    public func latentFrame(ofPixel pixel: Int) -> Int {
        pixel <= 0 ? 0 : (pixel - 1) / max(1, temporalCompression) + 1
    }

    /// Problems with values that came from outside (a submitted spec), each naming its field.
    public func problems() -> [SpecProblem] {
        var problems: [SpecProblem] = []
        for (field, value, limit) in [
            ("latent_channels", latentChannels, 4096), ("temporal_compression", temporalCompression, 64),
            ("spatial_compression", spatialCompression, 256), ("patch_frames", patchFrames, 16),
            ("patch_height", patchHeight, 16), ("patch_width", patchWidth, 16),
        ] where !(1...limit).contains(value) {
            problems.append(SpecProblem(field: "model", problem: "\(field) must be 1-\(limit) (got \(value))"))
        }
        if !ModelFamilies.supportedPipelines.contains(pipeline) {
            problems.append(SpecProblem(field: "model", problem: ModelFamilies.unsupportedMessage(pipeline)))
        }
        return problems
    }
}

/// The data type the model runs in.
public enum ModelDType: String, Sendable, Hashable, Codable, CaseIterable {
    case float32, bfloat16, float16
}
