import Foundation
import ReelClient
import ReelCore
import ReelPlan
import ReelStore
import ReelWire
import Testing

@testable import ReelWorker

/// The diffusers backend end to end, with real parts: a Python sidecar per worker loading tiny
/// random Wan and LTX-Video models from diffusers folders, real worker and coordinator
/// processes, SIGKILL, ffmpeg and ffprobe.
@Suite(.serialized, .enabled(if: !Diffusers.skipRequested, "REEL_SKIP_DIFFUSERS=1 was set"))
struct DiffusersTests {
    /// Reel's sampler (global noise, Euler over the model's own sigmas, the sidecar's guided
    /// velocity each step) against the diffusers pipeline itself from the same initial latents.
    @Test(arguments: ["wan", "ltx"])
    func reelsSamplerReproducesThePipeline(family: String) throws {
        let folder = try Diffusers.model(family)
        let directory = TemporaryDirectory()
        let geometry = try ModelFolder.geometry(folder)
        let pixelFrames = 17, size = 64, latentSize = size / geometry.spatialCompression
        let grid = LatentGrid(
            frames: geometry.latentFrames(forPixelFrames: pixelFrames), channels: geometry.latentChannels, height: latentSize,
            width: latentSize)
        var work = ChunkWork(
            backend: .diffusers, prompt: "a red fox runs", seed: 11, steps: 4, shift: 1, grid: grid,
            region: Region(frames: 0..<grid.frames, rows: 0..<latentSize, columns: 0..<latentSize))
        work.model = ModelSettings(path: folder, geometry: geometry, guidanceScale: 5, negativePrompt: "blurry")
        work.fps = 16
        let sidecar = Sidecar(options: SidecarOptions(python: Diffusers.python, logPath: "\(directory.path)/sidecar.log"))
        defer { sidecar.stop() }
        let sampled = try ModelRunner(sidecar: sidecar, waiting: {}).run(work, conditioning: .none)

        let noise = NoiseField(seed: 11).fill(work.region, channels: grid.channels)
        try Data(FloatBytes.bytes(noise)).write(to: URL(fileURLWithPath: "\(directory.path)/noise.f32"))
        let reference = try Diffusers.run(
            Diffusers.python,
            [
                "-m", "reel_sidecar.reference", "--model", folder, "--noise", "\(directory.path)/noise.f32", "--out",
                "\(directory.path)/out.f32", "--frames", "\(pixelFrames)", "--height", "\(size)", "--width", "\(size)", "--steps", "4",
                "--guidance", "5", "--prompt", "a red fox runs", "--negative-prompt", "blurry", "--fps", "16",
            ])
        try #require(reference.status == 0, "the pipeline reference failed: \(reference.output)")
        let expected = FloatBytes.floats(Array(try Data(contentsOf: URL(fileURLWithPath: "\(directory.path)/out.f32"))))
        try #require(expected.count == sampled.count)
        let difference = zip(expected, sampled).map { abs($0 - $1) }.max()!
        let scale = expected.map(abs).max()!
        measure("parity with \(geometry.pipeline) (4 steps, CFG 5)", "max |difference| \(difference) on values up to \(scale)")
        #expect(difference <= 1e-4)
        #expect(scale > 0.5, "the comparison is of real output, not of zeros")
    }

    /// Two workers render at least four chunks on each family in every mode; ffprobe checks the MP4.
    @Test(arguments: [("wan", "independent"), ("wan", "rolling"), ("ltx", "independent"), ("ltx", "rolling"), ("ltx", "autoregressive")])
    func twoWorkersRenderAProbedVideo(family: String, mode: String) throws {
        let directory = TemporaryDirectory()
        let spec = writeModelSpec(in: directory.path, name: "\(family)-\(mode)", model: try Diffusers.model(family), consistency: mode)
        let plan = Planner.plan(try SpecLoaderForTests.load(spec))
        #expect(plan.chunks.count >= 4)
        #expect(plan.decodes.count >= 2, "decoding is split into windows")
        let result = try ReelBinary.run(["render", spec, "--workers", "2", "--data", "\(directory.path)/data"], timeout: 600)
        try #require(result.status == 0, "render failed: \(result.err)")
        let video = try probe("\(directory.path)/\(family)-\(mode).mp4")
        #expect(video["codec_name"] == "h264")
        #expect(video["pix_fmt"] == "yuv420p")
        #expect(video["width"] == "64" && video["height"] == "64")
        #expect(video["nb_read_frames"] == "64", "round(4 s × 16 fps); 17 latent frames decode to 65, trimmed")
        let store = try Store(path: "\(directory.path)/data/reel.sqlite")
        let tasks = try store.tasks(job: 1)
        #expect(tasks.filter { $0.stage == TaskStage.decode.rawValue }.count == plan.decodes.count, "decode ran as leased tasks")
        // Both took tasks: the leases say so. Which one committed a task is a race (an idle worker
        // backs up a slow one, and a worker still loading its model loses every race).
        let leasedTo = try store.events(job: 1).filter { $0.kind == "task-leased" }.compactMap { $0.detail.split(separator: " ").last }
        #expect(Set(leasedTo).count == 2, "both workers took tasks: \(Set(leasedTo))")
        if mode == "autoregressive" {
            #expect(
                plan.units.filter { $0.stage == .chunks }.dropFirst().allSatisfy { !$0.dependencies.isEmpty },
                "chunks wait for their predecessor")
        }
        if mode == "rolling" { #expect(tasks.contains { $0.stage == TaskStage.seams.rawValue }) }
    }

    /// The same spec on one worker and on two: identical stitched latents, frames and MP4 bytes.
    @Test func oneAndTwoWorkersGiveIdenticalOutput() throws {
        let directory = TemporaryDirectory()
        let spec = writeModelSpec(in: directory.path, name: "same", model: try Diffusers.model("wan"), consistency: "rolling")
        var outputs: [(latents: String?, frames: String?, bytes: Data)] = []
        for workers in [1, 2] {
            let result = try ReelBinary.run(
                [
                    "render", spec, "--workers", "\(workers)", "--data", "\(directory.path)/data-\(workers)", "--out",
                    "\(directory.path)/\(workers).mp4",
                ],
                timeout: 600)
            try #require(result.status == 0, "render with \(workers) worker(s) failed: \(result.err)")
            let job = try #require(try Store(path: "\(directory.path)/data-\(workers)/reel.sqlite").job(1))
            outputs.append(
                (job.latentChecksum, job.frameChecksum, try Data(contentsOf: URL(fileURLWithPath: "\(directory.path)/\(workers).mp4"))))
        }
        #expect(outputs[0].latents != nil && outputs[0].latents == outputs[1].latents)
        #expect(outputs[0].frames != nil && outputs[0].frames == outputs[1].frames)
        #expect(outputs[0].bytes == outputs[1].bytes)
    }

    /// Renders a Wan spec cleanly on one worker, then on a cluster whose one worker's sidecar gets
    /// `signal` once the first task has committed; returns both outcomes and the cluster.
    func renderWithSidecarFault(
        _ directory: TemporaryDirectory, name: String, signal: Int32, workerArguments: [String]
    ) throws -> (reference: JobRecord, done: StatusReport.Job, job: Int64, cluster: TestCluster) {
        let spec = writeModelSpec(
            in: directory.path, name: name, model: try Diffusers.model("wan"), consistency: "independent", seconds: 8, steps: 12)
        let clean = try ReelBinary.run(["render", spec, "--workers", "1", "--data", "\(directory.path)/clean"], timeout: 600)
        try #require(clean.status == 0, "clean render failed: \(clean.err)")
        let reference = try #require(try Store(path: "\(directory.path)/clean/reel.sqlite").job(1))
        let cluster = try TestCluster(data: "\(directory.path)/data")
        try cluster.startWorker("w", arguments: ["--backend", "diffusers"] + workerArguments)
        let job = try cluster.submit(spec, output: "\(name).mp4")
        try cluster.waitFor(job: job) { $0.chunksDone >= 1 }
        let started = try #require(
            cluster.log("w.log").firstMatch(of: /model sidecar started \(pid (\d+)/), "the worker logs its sidecar's pid")
        #expect(kill(pid_t(started.1)!, signal) == 0)
        let done = try cluster.waitFor(job: job, timeout: 300) { $0.state == "done" }
        return (reference, done, job, cluster)
    }

    /// A sidecar SIGKILLed while its worker runs a task: the worker reports the task failed with
    /// the sidecar's last words, restarts it, and the task runs again; the video is unchanged.
    @Test func aSIGKILLedSidecarCostsOneAttemptAndNothingElse() throws {
        let directory = TemporaryDirectory()
        let run = try renderWithSidecarFault(directory, name: "killed", signal: SIGKILL, workerArguments: [])
        defer { run.cluster.stop() }
        #expect(run.done.latentChecksum == run.reference.latentChecksum)
        #expect(run.done.frameChecksum == run.reference.frameChecksum)
        #expect(run.cluster.log("w.log").contains("model sidecar restarted"))
        let failures = try run.cluster.store().tasks(job: run.job).filter { $0.attempt > 1 }
        #expect(failures.count == 1, "exactly the task the sidecar died in ran again")
        #expect(run.cluster.log("coordinator.log").contains("sidecar died: the sidecar ended"), "the FAILED reason says what happened")
    }

    /// A sidecar that stops answering (SIGSTOP) past `--sidecar-timeout` is killed and restarted;
    /// its task runs again and the video is unchanged.
    @Test func aStuckSidecarIsKilledAndRestarted() throws {
        let directory = TemporaryDirectory()
        let run = try renderWithSidecarFault(directory, name: "stuck", signal: SIGSTOP, workerArguments: ["--sidecar-timeout", "2"])
        defer { run.cluster.stop() }
        #expect(run.done.frameChecksum == run.reference.frameChecksum)
        #expect(run.cluster.log("w.log").contains("model sidecar restarted"))
        #expect(run.cluster.log("coordinator.log").contains("sidecar timed-out: no reply in 2 s"), "the FAILED reason names the timeout")
    }

    /// A coordinator SIGKILLed mid-render resumes: no committed task runs again, the video is unchanged.
    @Test func aSIGKILLedCoordinatorResumesWithoutRecomputing() throws {
        let directory = TemporaryDirectory()
        let spec = writeModelSpec(
            in: directory.path, name: "resume", model: try Diffusers.model("ltx"), consistency: "rolling", seconds: 8, steps: 8)
        let clean = try ReelBinary.run(["render", spec, "--workers", "2", "--data", "\(directory.path)/clean"], timeout: 600)
        try #require(clean.status == 0, "clean render failed: \(clean.err)")
        let reference = try #require(try Store(path: "\(directory.path)/clean/reel.sqlite").job(1))

        let cluster = try TestCluster(data: "\(directory.path)/data")
        defer { cluster.stop() }
        for name in ["a", "b"] { try cluster.startWorker(name, arguments: ["--backend", "diffusers"]) }
        let job = try cluster.submit(spec, output: "resume.mp4")
        try cluster.waitFor(job: job) { $0.chunksDone >= 4 }
        try cluster.restartCoordinatorAfterSIGKILL()
        let committed = try cluster.store().tasks(job: job).filter { $0.state == .done }
        #expect(committed.count >= 4)
        let done = try cluster.waitFor(job: job, timeout: 300) { $0.state == "done" }
        let after = Dictionary(uniqueKeysWithValues: try cluster.store().tasks(job: job).map { ($0.id!, $0) })
        for task in committed {
            #expect(after[task.id!]?.attempt == task.attempt, "committed task \(task.id!) ran again")
            #expect(after[task.id!]?.checksum == task.checksum)
        }
        #expect(done.latentChecksum == reference.latentChecksum)
        #expect(done.frameChecksum == reference.frameChecksum)
        measure("diffusers coordinator SIGKILL", "\(committed.count) committed tasks kept, 0 recomputed, output identical")
    }

    /// A sidecar that runs out of memory: the task is reported out of memory and fails the job at
    /// once when no live worker has more memory (no loop); resumed on a worker with more, the job
    /// finishes. (Sending the task to the worker with more memory while both are connected is the
    /// scheduler's, tested without processes in SchedulerModelTests.)
    @Test func outOfMemoryFailsTheJobAtOnceAndAResumeOnMoreMemoryFinishes() throws {
        let directory = TemporaryDirectory()
        // One chunk (and its decode window), so their own path decides the job.
        let spec = writeModelSpec(
            in: directory.path, name: "oom", model: try Diffusers.model("wan"), consistency: "independent", chunkFrames: 32)
        let cluster = try TestCluster(data: "\(directory.path)/data")
        defer { cluster.stop() }
        try cluster.startWorker("a-small", arguments: ["--backend", "diffusers", "--sidecar-max-memory-mb", "16"])
        let job = try cluster.submit(spec, output: "oom.mp4")
        var last: StatusReport.Job?
        try waitUntil("the job fails", timeout: 120) {
            last = try cluster.client().status(job: job).jobs.first
            return last?.state == "failed"
        }
        let reason = last?.reason ?? ""
        #expect(reason.hasPrefix("out of memory: no live worker has more than 16 MB; last on a-small"), "\(reason)")
        #expect(reason.contains("can't allocate memory"), "torch's own allocation failure: \(reason)")
        // The chunk or, when sampling it fitted under the cap, its decode window ran out of memory
        // (the cap is over the address space the sidecar had mapped, which varies a little).
        let unfinished = try cluster.store().tasks(job: job).filter { $0.state != .done }
        #expect(unfinished.contains { $0.attempt == 1 }, "the task that ran out of memory: \(unfinished)")
        #expect(unfinished.allSatisfy { $0.attempt <= 1 }, "failed at once, not retried on the same memory: \(unfinished)")
        #expect(cluster.workers["a-small"]?.isRunning == true, "the worker keeps serving")

        cluster.workers["a-small"]?.terminate()
        try cluster.startWorker("b-big", arguments: ["--backend", "diffusers"])
        try waitUntil("only the big worker is connected", timeout: 60) { try cluster.client().status().workers.keys.sorted() == ["b-big"] }
        _ = try cluster.client().control(job: job, .resume)
        let done = try cluster.waitFor(job: job, timeout: 300) { $0.state == "done" }
        #expect(done.reason == nil)
        let after = try cluster.store().tasks(job: job)
        for task in unfinished {
            let row = try #require(after.first { $0.id == task.id })
            #expect(row.worker == "b-big", "a task left when the job failed, after the resume: \(row)")
        }
    }

    /// Spec problems a user meets first, each naming its field.
    @Test func specErrorsNameTheModelAndSize() throws {
        let directory = TemporaryDirectory()
        let wan = try Diffusers.model("wan")
        let foreign = "\(directory.path)/cog"
        try FileManager.default.createDirectory(atPath: foreign, withIntermediateDirectories: true)
        try #"{"_class_name": "CogVideoXPipeline"}"#.write(toFile: "\(foreign)/model_index.json", atomically: true, encoding: .utf8)
        let cases: [(model: String, width: Int, expected: String)] = [
            ("\(directory.path)/missing", 64, "field 'model': no model folder at \(directory.path)/missing"),
            (
                foreign, 64,
                "field 'model': pipeline class 'CogVideoXPipeline' is not supported (supported: LTXConditionPipeline, LTXPipeline, WanPipeline)"
            ),
            (wan, 72, "field 'width': must be a multiple of 16 for model WanPipeline (VAE 8x, patch 2) (got 72)"),
        ]
        for (index, item) in cases.enumerated() {
            let spec = writeModelSpec(in: directory.path, name: "bad\(index)", model: item.model, consistency: "rolling", width: item.width)
            let result = try ReelBinary.run(["plan", spec])
            #expect(result.status != 0)
            #expect(result.err.contains(item.expected), "\(result.err)")
        }
        let good = try ReelBinary.run(["plan", writeModelSpec(in: directory.path, name: "good", model: wan, consistency: "rolling")])
        #expect(good.out.contains("latent frames: 17, decoding to 65 frames, trimmed to 64"), "\(good.out)")
        #expect(good.out.contains("latent grid: 17 x 16 x 8 x 8"))
    }

    /// A model job's chunk previews in the operator API are its committed latents projected to
    /// RGB (Wan's 16 channels by Wan's factors): small images at the latent grid's size.
    @Test func aModelJobsPreviewsAreItsLatentsProjectedToRGB() throws {
        let directory = TemporaryDirectory()
        let spec = writeModelSpec(in: directory.path, name: "previewed", model: try Diffusers.model("wan"), consistency: "independent")
        let (cluster, base) = try OperatorAPITests.servedCluster(directory)
        defer { cluster.stop() }
        let token = try OperatorAPITests.token(cluster, role: "viewer", name: "watcher")
        let job = try cluster.submit(spec, output: "previewed.mp4")
        try cluster.startWorker("model-1", arguments: ["--backend", "diffusers"])
        try cluster.waitFor(job: job, timeout: 300) { $0.state == "done" }
        let preview = try HTTP.request("\(base)/v1/jobs/\(job)/chunks/0/preview.png", token: token)
        #expect(preview.status == 200 && preview.header("Content-Type") == "image/png")
        let file = "\(directory.path)/preview.png"
        try preview.body.write(to: URL(fileURLWithPath: file))
        let probed = try probe(file)
        // 64 x 64 pixels are 8 x 8 latents (the VAE's 8x).
        #expect(probed["width"] == "8" && probed["height"] == "8", "\(probed)")
        let pixels = try Diffusers.run("/bin/sh", ["-c", "ffmpeg -v error -i \(file) -f rawvideo -pix_fmt rgb24 - | od -An -tu1 -v"])
        let values = pixels.output.split(whereSeparator: \.isWhitespace).compactMap { UInt8($0) }
        #expect(values.count == 8 * 8 * 3 && Set(values).count > 8, "a picture, not a flat colour: \(Set(values).count) values")
    }

    /// A job no live worker can run waits, says why, and runs once a capable worker joins.
    @Test func aJobNoWorkerCanRunWaitsAndSaysWhy() throws {
        let directory = TemporaryDirectory()
        let model = try Diffusers.model("wan")
        let spec = writeModelSpec(in: directory.path, name: "waits", model: model, consistency: "independent")
        let cluster = try TestCluster(data: "\(directory.path)/data")
        defer { cluster.stop() }
        try cluster.startWorker("procedural-only")
        try cluster.startWorker("other-model", arguments: ["--backend", "diffusers", "--model", try Diffusers.model("ltx")])
        let job = try cluster.submit(spec, output: "waits.mp4")
        let waiting = try cluster.waitFor(job: job, timeout: 60) { $0.reason?.contains("no live worker can run it") == true }
        #expect(waiting.reason?.contains("the diffusers backend with model \(model)") == true, "\(waiting.reason ?? "")")
        #expect(waiting.chunksDone == 0)
        try cluster.startWorker("capable", arguments: ["--backend", "diffusers", "--model", model])
        let done = try cluster.waitFor(job: job, timeout: 300) { $0.state == "done" }
        #expect(done.reason == nil)
        #expect(Set(try cluster.store().tasks(job: job).compactMap(\.worker)) == ["capable"])
    }
}
