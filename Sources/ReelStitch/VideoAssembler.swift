import ReelCore

/// Stitch → decode → encode for one job, with running checksums of the stitched latents and
/// of the decoded frames (so determinism can be checked without keeping either).
public enum VideoAssembler {
    public struct Outcome: Sendable, Hashable {
        public var frames: Int
        /// FNV-1a over the stitched latents' Float32 bit patterns, frame by frame.
        public var latentChecksum: UInt64
        /// FNV-1a over the decoded 8-bit RGB frames.
        public var frameChecksum: UInt64
    }

    /// Assembles `plan`'s chunks into the MP4 at `spec.output`, which with the PNGs stays
    /// inside `root` (see ``FFmpegEncoder``; `progressive` adds the growing fragmented MP4, and
    /// `niceness` is ffmpeg's nice value, for an encode that yields to a render beside it).
    /// Frames stream out in order as `load` and `override` hand back what covers them, so
    /// these may block until it is committed: the encode then runs beside the render.
    public static func assemble(
        spec: JobSpec, plan: Plan, root: String? = nil, progressive: Bool = false, niceness: Int32? = nil, load: (Chunk) throws -> [Float],
        override: (Int) throws -> [Float]? = { _ in nil }, progress: (Int) -> Void = { _ in }
    ) throws -> Outcome {
        try encode(spec: spec, root: root, progressive: progressive, niceness: niceness, progress: progress) { frame in
            try stitch(spec: spec, plan: plan, load: load, override: override, frame: frame)
        }
    }

    /// Encodes a model backend's video from its decode windows' kept frames (committed by
    /// workers), in order, one window in memory at a time (`pixels` may block, as `load` may).
    public static func assembleDecoded(
        spec: JobSpec, plan: Plan, root: String? = nil, progressive: Bool = false, niceness: Int32? = nil, load: (Chunk) throws -> [Float],
        override: (Int) throws -> [Float]?, pixels: (DecodeWindow) throws -> [Float], progress: (Int) -> Void = { _ in }
    ) throws -> Outcome {
        try encode(spec: spec, root: root, progressive: progressive, niceness: niceness, progress: progress) { frame in
            try decoded(spec: spec, plan: plan, load: load, override: override, pixels: pixels, frame: frame)
        }
    }

    /// Streams the frames `produce` hands out into ffmpeg: the MP4 is moved into place when all
    /// went well, and abandoned (no partial file left) when anything failed.
    static func encode(
        spec: JobSpec, root: String?, progressive: Bool, niceness: Int32?, progress: (Int) -> Void,
        produce: (_ frame: (Int, [UInt8]) throws -> Void) throws -> Outcome
    ) throws -> Outcome {
        let encoder = try FFmpegEncoder(
            output: spec.output, root: root, width: spec.width, height: spec.height, fps: spec.fps, frames: spec.frameCount,
            pngDirectory: spec.pngDirectory, progressive: progressive, niceness: niceness)
        do {
            let outcome = try withoutActuallyEscaping(progress) { progress in
                try produce { frame, rgb in
                    try encoder.write(rgb)
                    progress(frame + 1)
                }
            }
            try encoder.finish()
            return outcome
        } catch {
            encoder.abandon()
            throw error
        }
    }

    /// A model backend's frames: each decode window's kept frames (planar RGB in [-1, 1]) in
    /// order, handed to `frame(index, rgb)`; the latent checksum is taken over the stitched
    /// latents the windows were decoded from. A window is read as soon as the latents it keeps
    /// are stitched, so frames flow while later chunks are still sampled.
    public static func decoded(
        spec: JobSpec, plan: Plan, load: (Chunk) throws -> [Float], override: (Int) throws -> [Float]?,
        pixels: (DecodeWindow) throws -> [Float], frame: (Int, [UInt8]) throws -> Void
    ) throws -> Outcome {
        var latentHash = Checksum.Running(), frameHash = Checksum.Running()
        let perFrame = 3 * spec.width * spec.height
        var next = 0
        func emitWindows(through latentFrame: Int) throws {
            while next < plan.decodes.count, plan.decodes[next].kept.upperBound <= latentFrame {
                let window = plan.decodes[next]
                next += 1
                let values = try pixels(window)
                guard values.count == window.pixels.count * perFrame else {
                    throw ReelError(.artifact, "decode window \(window.index) holds \(values.count) values, expected \(window.pixels.count * perFrame)")
                }
                for (offset, index) in window.pixels.enumerated() {
                    let rgb = FrameDecoder.rgb8(Array(values[(offset * perFrame)..<((offset + 1) * perFrame)]), width: spec.width, height: spec.height)
                    rgb.withUnsafeBytes { frameHash.add($0) }
                    try frame(index, rgb)
                }
            }
        }
        try Stitcher(plan: plan).stitch(load: load, override: override) { index, latents in
            latents.withUnsafeBytes { latentHash.add($0) }
            try emitWindows(through: index + 1)
        }
        try emitWindows(through: .max)
        return Outcome(frames: spec.frameCount, latentChecksum: latentHash.value, frameChecksum: frameHash.value)
    }

    /// Stitches and decodes every frame, handing each to `frame(index, rgb)`, and returns the
    /// checksums; no encoding (tests use it to compute what a render must produce).
    public static func stitch(
        spec: JobSpec, plan: Plan, load: (Chunk) throws -> [Float], override: (Int) throws -> [Float]? = { _ in nil },
        frame: (Int, [UInt8]) throws -> Void
    ) throws -> Outcome {
        var latentHash = Checksum.Running(), frameHash = Checksum.Running()
        try Stitcher(plan: plan).stitch(load: load, override: override) { index, latents in
            latents.withUnsafeBytes { latentHash.add($0) }
            let rgb = FrameDecoder.rgb8(latents, width: spec.width, height: spec.height)
            rgb.withUnsafeBytes { frameHash.add($0) }
            try frame(index, rgb)
        }
        return Outcome(frames: plan.grid.frames, latentChecksum: latentHash.value, frameChecksum: frameHash.value)
    }
}
