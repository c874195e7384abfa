import Foundation
import ReelCore
import ReelSampler

/// Runs a diffusers task through the worker's sidecar: loads the task's model (refusing one whose
/// geometry is not the one the job was planned on), then samples it with Reel's sampler, or
/// decodes its latent window and keeps the frames the plan asks for.
public struct ModelRunner {
    let sidecar: Sidecar
    /// Called while waiting on the sidecar and between steps: the worker heartbeats from it.
    let waiting: () -> Void
    /// Adds up the seconds the sidecar spent in the model (for logs and the benchmark).
    public let clock = ModelClock()

    /// Called after each denoising step.
    let stepped: () -> Void

    public init(sidecar: Sidecar, waiting: @escaping () -> Void, stepped: @escaping () -> Void = {}) {
        self.sidecar = sidecar
        self.waiting = waiting
        self.stepped = stepped
    }

    /// Runs one task: the latents it samples, or for a decode task the frames it keeps.
    public func run(_ work: ChunkWork, conditioning: Conditioning) throws(SidecarFailure) -> [Float] {
        guard let model = work.model else { throw SidecarFailure(kind: .refused, message: "the task names no model") }
        try sidecar.start(waiting: waiting)
        let native = try load(model)
        if let decode = work.decode { return try self.decode(work, model: model, span: decode, latents: conditioning.initial ?? []) }
        var velocity = SidecarVelocity(sidecar: sidecar, waiting: waiting, conditionsNatively: native, clock: clock)
        do {
            return try ChunkSampler.sample(work, conditioning: conditioning, model: &velocity, progress: waiting, stepped: stepped)
        } catch let failure as SidecarFailure {
            throw failure
        } catch {
            throw SidecarFailure(kind: .refused, message: "\(error)")
        }
    }

    static func modelFields(_ model: ModelSettings) -> [String: Any] { ["model": model.path, "dtype": model.dtype.rawValue] }

    /// Loads the model unless this sidecar process has it, checking its geometry; returns whether
    /// it conditions natively. Only a real load gets the long timeout (weights take minutes).
    private func load(_ model: ModelSettings) throws(SidecarFailure) -> Bool {
        if let loaded = sidecar.loaded, loaded.path == model.path, loaded.dtype == model.dtype { return loaded.conditionsNatively }
        var request = Self.modelFields(model)
        request["op"] = "load"
        let reply = try sidecar.request(request, timeoutSeconds: max(1800, sidecar.options.requestTimeoutSeconds), waiting: waiting)
        let found = reply.header["geometry"] as? [String: Int] ?? [:]
        let planned = model.geometry
        let expected: [String: Int] = [
            "latent_channels": planned.latentChannels, "temporal_compression": planned.temporalCompression,
            "spatial_compression": planned.spatialCompression, "patch_frames": planned.patchFrames,
            "patch_height": planned.patchHeight, "patch_width": planned.patchWidth, "decoder_causal": planned.decoderCausal ? 1 : 0,
        ]
        guard found == expected else {
            throw SidecarFailure(
                kind: .refused,
                message: "the model at \(model.path) here has geometry \(found.sorted { $0.key < $1.key }), the job was planned for \(expected.sorted { $0.key < $1.key })")
        }
        let native = reply.header["native_conditioning"] as? Bool ?? false
        sidecar.loaded = (model.path, model.dtype, native)
        return native
    }

    private func decode(_ work: ChunkWork, model: ModelSettings, span: DecodeSpan, latents: [Float]) throws(SidecarFailure) -> [Float] {
        let region = work.region
        guard latents.count == region.frames.count * work.grid.channels * region.rows.count * region.columns.count else {
            throw SidecarFailure(kind: .refused, message: "a decode task needs its window's latents (got \(latents.count) values)")
        }
        var request = Self.modelFields(model)
        request.merge(
            [
                "op": "decode", "frames": region.frames.count, "channels": work.grid.channels, "height": region.rows.count,
                "width": region.columns.count, "tiled": span.tiled,
            ], uniquingKeysWith: { $1 })
        let reply = try sidecar.request(request, payload: FloatBytes.bytes(latents), waiting: waiting)
        clock.seconds += reply.header["seconds"] as? Double ?? 0
        let scale = model.geometry.spatialCompression
        let height = region.rows.count * scale, width = region.columns.count * scale
        let expectedFrames = model.geometry.pixelFrames(forLatentFrames: region.frames.count)
        guard reply.header["frames"] as? Int == expectedFrames, reply.header["height"] as? Int == height,
            reply.header["width"] as? Int == width, reply.payload.count == expectedFrames * 3 * height * width * 4
        else {
            throw SidecarFailure(
                kind: .garbled,
                message:
                    "decode gave \(reply.header["frames"] ?? "?") frames of \(reply.header["width"] ?? "?")x\(reply.header["height"] ?? "?"), expected \(expectedFrames) of \(width)x\(height)"
            )
        }
        let perFrame = 3 * height * width
        let pixels = FloatBytes.floats(reply.payload)
        return Array(pixels[(span.keepFrom * perFrame)..<((span.keepFrom + span.keepCount) * perFrame)])
    }
}

/// The sidecar as Reel's sampler sees a model: its scheduler's sigmas, and the guided velocity.
struct SidecarVelocity: VelocityModel {
    let sidecar: Sidecar
    let waiting: () -> Void
    let conditionsNatively: Bool
    let clock: ModelClock

    func fields(_ work: ChunkWork) -> [String: Any] {
        var fields = work.model.map(ModelRunner.modelFields) ?? [:]
        fields.merge(
            [
                "steps": work.steps, "frames": work.frameCount, "channels": work.grid.channels, "height": work.region.rows.count,
                "width": work.region.columns.count,
            ], uniquingKeysWith: { $1 })
        return fields
    }

    mutating func schedule(for work: ChunkWork) throws -> FlowSchedule {
        var request = fields(work)
        request["op"] = "schedule"
        let sigmas = try sidecar.request(request, waiting: waiting).header["sigmas"] as? [Double] ?? []
        let descending = zip(sigmas, sigmas.dropFirst()).allSatisfy { $0 > $1 }
        guard sigmas.count == work.steps + 1, descending, sigmas.last == 0, let first = sigmas.first, first <= 1 + 1e-6 else {
            throw SidecarFailure(kind: .garbled, message: "the model's schedule for \(work.steps) steps is not \(work.steps + 1) falling sigmas ending at 0: \(sigmas.prefix(8))")
        }
        return FlowSchedule(times: sigmas)
    }

    mutating func velocity(_ x: [Float], step: Int, work: ChunkWork, cleanFrames: [Int]) throws -> [Float] {
        guard let model = work.model else { throw SidecarFailure(kind: .refused, message: "the task names no model") }
        var request = fields(work)
        request.merge(
            [
                "op": "predict", "step": step, "prompt": work.prompt, "negative_prompt": model.negativePrompt,
                "guidance_scale": model.guidanceScale, "fps": work.fps, "clean_frames": cleanFrames,
            ], uniquingKeysWith: { $1 })
        let reply = try sidecar.request(request, payload: FloatBytes.bytes(x), waiting: waiting)
        clock.seconds += reply.header["seconds"] as? Double ?? 0
        guard reply.payload.count == x.count * 4 else {
            throw SidecarFailure(kind: .garbled, message: "velocity of \(reply.payload.count) bytes for a state of \(x.count * 4)")
        }
        return FloatBytes.floats(reply.payload)
    }
}

/// Seconds the sidecar reports spending in the model, added up over requests.
public final class ModelClock {
    public init() {}
    public var seconds = 0.0
}

/// Little-endian float32 tensors as the sidecar's payloads carry them.
enum FloatBytes {
    static func bytes(_ values: [Float]) -> [UInt8] {
        values.withUnsafeBytes { Array($0) }
    }

    static func floats(_ bytes: [UInt8]) -> [Float] {
        [Float](unsafeUninitializedCapacity: bytes.count / 4) { out, initialized in
            bytes.withUnsafeBytes { raw in
                for i in 0..<(bytes.count / 4) { out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
            }
            initialized = bytes.count / 4
        }
    }
}
