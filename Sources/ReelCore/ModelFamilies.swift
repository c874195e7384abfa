import Foundation

/// Reading a diffusers model folder's configs into a ``ModelGeometry``. What differs per family
/// (which config keys hold the compression and patch) is one reader per family here; how the
/// family's model is called lives in the sidecar's `families/` (one Python file per family).
public enum ModelFamilies {
    typealias Reader = @Sendable (_ vae: [String: Any], _ transformer: [String: Any]) throws -> (channels: Int, temporal: Int, spatial: Int, patch: [Int], causal: Bool)

    /// Pipeline class → (family, geometry reader).
    static let readers: [String: (family: String, read: Reader)] = [
        "WanPipeline": ("wan", readWan),
        "LTXPipeline": ("ltx", readLTX),
        "LTXConditionPipeline": ("ltx", readLTX),
    ]

    /// Every pipeline class Reel can drive.
    public static var supportedPipelines: [String] { readers.keys.sorted() }

    static func unsupportedMessage(_ pipeline: String) -> String {
        "pipeline class '\(pipeline)' is not supported (supported: \(supportedPipelines.joined(separator: ", ")))"
    }

    /// The geometry of the model in `folder`, from its configs as `read(path)` returns them (nil:
    /// unreadable); errors name the `model` field. Pure: ReelClient's `ModelFolder` reads the files.
    public static func geometry(folder: String, read: (String) -> Data?) throws(SpecProblemError) -> ModelGeometry {
        func fail(_ problem: String) -> SpecProblemError { SpecProblemError(SpecProblem(field: "model", problem: problem)) }
        func json(_ path: String) throws(SpecProblemError) -> [String: Any] {
            guard let data = read(path) else { throw fail("cannot read \(path)") }
            guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
                throw fail("\(path) is not a JSON object")
            }
            return object
        }
        let index = try json(folder + "/model_index.json")
        guard let pipeline = index["_class_name"] as? String else { throw fail("\(folder)/model_index.json has no _class_name") }
        guard let entry = readers[pipeline] else { throw fail(unsupportedMessage(pipeline)) }
        let vae = try json(folder + "/vae/config.json"), transformer = try json(folder + "/transformer/config.json")
        do {
            let read = try entry.read(vae, transformer)
            let geometry = ModelGeometry(
                pipeline: pipeline, family: entry.family, latentChannels: read.channels, temporalCompression: read.temporal,
                spatialCompression: read.spatial, patchFrames: read.patch[0], patchHeight: read.patch[1], patchWidth: read.patch[2],
                decoderCausal: read.causal)
            if let problem = geometry.problems().first { throw fail("\(folder): \(problem.problem)") }
            return geometry
        } catch let error as SpecProblemError {
            throw error
        } catch {
            throw fail("\(folder): \(error)")
        }
    }

    static func int(_ config: [String: Any], _ key: String, default fallback: Int? = nil) throws -> Int {
        if let value = config[key] as? Int { return value }
        if let value = config[key] as? Double, value == value.rounded(), abs(value) < 1e9 { return Int(value) }
        if let fallback, config[key] == nil || config[key] is NSNull { return fallback }
        throw SpecProblemError(SpecProblem(field: "model", problem: "config key '\(key)' is missing or not an integer"))
    }

    /// Wan: `z_dim` channels, `scale_factor_temporal` / `scale_factor_spatial` (4 and 8 when
    /// absent, as diffusers defaults them), transformer `patch_size` [t, h, w]; a causal decoder.
    static func readWan(vae: [String: Any], transformer: [String: Any]) throws -> (channels: Int, temporal: Int, spatial: Int, patch: [Int], causal: Bool) {
        let patch = (transformer["patch_size"] as? [Int]) ?? []
        guard patch.count == 3 else {
            throw SpecProblemError(SpecProblem(field: "model", problem: "transformer patch_size must be three integers"))
        }
        return (
            try int(vae, "z_dim"), try int(vae, "scale_factor_temporal", default: 4), try int(vae, "scale_factor_spatial", default: 8),
            patch, true
        )
    }

    /// LTX-Video: `latent_channels`; the compression ratios when given, else computed as diffusers
    /// does (patch size × 2^number of scaling stages); transformer `patch_size`, `patch_size_t`;
    /// the decoder is causal only when `decoder_causal` says so.
    static func readLTX(vae: [String: Any], transformer: [String: Any]) throws -> (channels: Int, temporal: Int, spatial: Int, patch: [Int], causal: Bool) {
        let scaling = (vae["spatio_temporal_scaling"] as? [Bool])?.filter { $0 }.count ?? 4
        guard scaling <= 8 else { throw SpecProblemError(SpecProblem(field: "model", problem: "too many VAE scaling stages")) }
        let spatial = try int(vae, "spatial_compression_ratio", default: try int(vae, "patch_size", default: 4) << scaling)
        let temporal = try int(vae, "temporal_compression_ratio", default: try int(vae, "patch_size_t", default: 1) << scaling)
        let patch = try int(transformer, "patch_size", default: 1)
        return (
            try int(vae, "latent_channels"), temporal, spatial, [try int(transformer, "patch_size_t", default: 1), patch, patch],
            vae["decoder_causal"] as? Bool ?? false
        )
    }
}

/// A single spec problem as an error (reading a model folder fails with one).
public struct SpecProblemError: Error, Sendable, CustomStringConvertible {
    public let problem: SpecProblem
    public init(_ problem: SpecProblem) { self.problem = problem }
    public var description: String { problem.description }
}
