import Foundation
import ReelClient
import ReelCore
import ReelPlan
import ReelStitch
import ReelWorker

/// The diffusers section: what the farm adds around a real model's own work, on the tiny test
/// models (or `--model` folders) on this machine's CPU.
extension BenchSections {
    struct DiffusersRow: Codable {
        var family: String
        /// Latent frames × channels × height × width of the measured chunk.
        var chunk: String
        var steps: Int
        /// Spawning the sidecar: Python, torch and diffusers imported, hello answered.
        var coldStartSeconds: Double
        /// Loading the model folder, the first time.
        var loadSeconds: Double
        /// One chunk on a warm sidecar, as the worker runs it (mean of the runs).
        var taskSeconds: Double
        /// Of which the sidecar spent this in the model (transformer calls, CFG).
        var modelSeconds: Double
        /// Coordinator: stitching this chunk's share of the video's latents (blend, for seams and decode windows).
        var stitchSeconds: Double
        /// (task − model + stitch) / model: round trips, noise, latent transfer, Euler steps, stitching.
        var overheadFraction: Double
        /// The diffusers pipeline itself from the same latents (prompt encoding included).
        var pipelineSeconds: Double?
        /// Decode stage: frames kept per second by one decode task (8 latent frames + warm-up).
        var decodeFramesPerSecond: Double
    }

    /// Measures each family; `models` maps a family to a folder (tiny models are built when absent).
    func diffusers(python: String, models: [String: String], runs: Int = 3) throws -> [DiffusersRow] {
        var rows: [DiffusersRow] = []
        for (family, pixels) in [("wan", quick ? 64 : 256), ("ltx", 64)] {
            let folder = try models[family] ?? buildTinyModel(family, python: python)
            let geometry = try ModelFolder.geometry(folder)
            let sidecar = Sidecar(options: SidecarOptions(python: python, logPath: "\(scratch)/sidecar-\(family).log"))
            defer { sidecar.stop() }
            var started = Date()
            try sidecar.start()
            let cold = Date().timeIntervalSince(started)
            started = Date()
            _ = try sidecar.request(["op": "load", "model": folder, "dtype": "float32"])
            let load = Date().timeIntervalSince(started)

            let pixelFrames = quick ? 17 : 81, steps = quick ? 4 : 20
            let spec = JobSpec(
                name: "bench", prompt: "a red fox runs through a snowy forest", seconds: Double(pixelFrames) / 16, fps: 16, width: pixels,
                height: pixels, seed: 3, backend: .diffusers, steps: steps, chunkFrames: 1024, overlap: 0, output: "\(scratch)/b.mp4",
                consistency: .independent,
                model: ModelSettings(path: folder, geometry: geometry, guidanceScale: 5, negativePrompt: "blurry"))
            let plan = Planner.plan(spec)
            let work = Planner.work(spec, plan, unit: plan.unit(.chunks, 0)!)
            _ = try ModelRunner(sidecar: sidecar, waiting: {}).run(work, conditioning: .none)  // warm: prompt embeddings, allocator
            var wall = 0.0, model = 0.0
            for _ in 0..<runs {
                let runner = ModelRunner(sidecar: sidecar, waiting: {})
                started = Date()
                _ = try runner.run(work, conditioning: .none)
                wall += Date().timeIntervalSince(started)
                model += runner.clock.seconds
            }
            let decode = try decodeRate(spec: spec, sidecar: sidecar)
            let stitch = try stitchSecondsPerChunk(spec: spec)
            let pipeline = try pipelineSeconds(python: python, folder: folder, work: work, pixelFrames: pixelFrames, pixels: pixels)
            rows.append(
                DiffusersRow(
                    family: family,
                    chunk: "\(work.frameCount)x\(work.grid.channels)x\(work.region.rows.count)x\(work.region.columns.count)",
                    steps: steps, coldStartSeconds: cold, loadSeconds: load, taskSeconds: wall / Double(runs),
                    modelSeconds: model / Double(runs), stitchSeconds: stitch,
                    overheadFraction: (wall - model + stitch * Double(runs)) / model, pipelineSeconds: pipeline,
                    decodeFramesPerSecond: decode))
        }
        return rows
    }

    private func buildTinyModel(_ family: String, python: String) throws -> String {
        let folder = "\(scratch)/tiny-\(family)"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-m", "reel_sidecar.tiny_models", "--family", family, folder]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ReelError(.usage, "building the tiny \(family) model failed") }
        return folder
    }

    /// Frames per second of one decode task: its window's latents in, its kept frames out.
    private func decodeRate(spec: JobSpec, sidecar: Sidecar) throws -> Double {
        var spec = spec
        spec.seconds = 4 * spec.seconds
        let plan = Planner.plan(spec)
        let unit = plan.unit(.decode, plan.decodes.count / 2)!
        let work = Planner.work(spec, plan, unit: unit)
        let latents = NoiseField(seed: 1).fill(work.region, channels: work.grid.channels)
        _ = try ModelRunner(sidecar: sidecar, waiting: {}).run(work, conditioning: Conditioning(pinned: [:], initial: latents))
        let started = Date()
        _ = try ModelRunner(sidecar: sidecar, waiting: {}).run(work, conditioning: Conditioning(pinned: [:], initial: latents))
        return Double(work.decode!.keepCount) / Date().timeIntervalSince(started)
    }

    /// The coordinator's stitching per chunk: a 10× longer video of the same chunks (overlapping
    /// by 4 latent frames) blended frame by frame from latents in memory, over its chunk count.
    private func stitchSecondsPerChunk(spec: JobSpec) throws -> Double {
        var spec = spec
        spec.seconds *= 10
        spec.overlap = 4
        spec.chunkFrames = 21
        let plan = Planner.plan(spec)
        let latents = Dictionary(
            uniqueKeysWithValues: plan.chunks.map { chunk in
                (chunk.index, NoiseField(seed: 1).fill(chunk.region, channels: plan.grid.channels))
            })
        let started = Date()
        try Stitcher(plan: plan).stitch(load: { latents[$0.index]! }, emit: { _, _ in })
        return Date().timeIntervalSince(started) / Double(plan.chunks.count)
    }

    /// The pipeline's own time for the same chunk (`reel_sidecar.reference` prints it).
    private func pipelineSeconds(python: String, folder: String, work: ChunkWork, pixelFrames: Int, pixels: Int) throws -> Double? {
        let noisePath = "\(scratch)/noise.f32"
        let noise = NoiseField(seed: work.seed).fill(work.region, channels: work.grid.channels)
        try noise.withUnsafeBytes { Data($0) }.write(to: URL(fileURLWithPath: noisePath))
        let process = Process(), output = Pipe()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [
            "-m", "reel_sidecar.reference", "--model", folder, "--noise", noisePath, "--out", "\(scratch)/out.f32", "--frames",
            "\(pixelFrames)", "--height", "\(pixels)", "--width", "\(pixels)", "--steps", "\(work.steps)", "--guidance", "5", "--prompt",
            work.prompt, "--negative-prompt", "blurry", "--fps", "16",
        ]
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text.firstMatch(of: /pipeline seconds ([0-9.]+)/).flatMap { Double($0.1) }
    }
}
