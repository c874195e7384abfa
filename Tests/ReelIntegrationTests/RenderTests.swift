import Foundation
import ReelClient
import ReelCore
import ReelPlan
import ReelSampler
import ReelStore
import Testing

/// `reel render` end to end: a real coordinator and real worker processes on loopback, a
/// real SQLite file, real ffmpeg.
@Suite(.serialized) struct RenderTests {
    @Test func twoWorkerProcessesRenderAPlayableMP4() throws {
        let directory = TemporaryDirectory()
        let spec = writeSpec(in: directory.path, name: "two")
        let result = try ReelBinary.run(["render", spec, "--workers", "2", "--data", "\(directory.path)/data"])
        #expect(result.status == 0, "render failed: \(result.err)")
        let output = "\(directory.path)/two.mp4"
        #expect(result.out.trimmingCharacters(in: .whitespacesAndNewlines) == output, "prints the output path")
        #expect(result.err.contains("chunks "), "shows progress")
        let video = try probe(output)
        #expect(video["codec_name"] == "h264")
        #expect(video["pix_fmt"] == "yuv420p")
        #expect(video["width"] == "96" && video["height"] == "64")
        #expect(video["nb_read_frames"] == "48")
        #expect(video["r_frame_rate"] == "12/1")
        #expect(abs(Double(video["duration"] ?? "0")! - 4.0) < 0.01)
        // Both worker processes sampled chunks, and every task is committed, with its checksum.
        // Its attempt may be over 1: on a loaded machine the idle worker's backup of a task queued
        // at the other can win, or a worker stalled past its timeout loses its leases (CI saw it).
        let store = try Store(path: "\(directory.path)/data/reel.sqlite")
        let tasks = try store.tasks(job: 1)
        #expect(tasks.count == Planner.plan(try SpecLoaderForTests.load(spec)).units.count)
        #expect(tasks.allSatisfy { $0.state == .done && $0.attempt >= 1 && $0.checksum != nil })
        #expect(Set(tasks.compactMap(\.worker)).count == 2, "work spread over both workers")
    }

    @Test func sameSpecAndSeedGiveIdenticalOutputWithOneOrThreeWorkers() throws {
        let directory = TemporaryDirectory()
        // Keyframes every 2 frames: 30, more than a set of 16 holds, so they are sampled coarse to
        // fine (a top set, then sets pinned to its anchors) and the chunks wait on different sets.
        let spec = writeSpec(in: directory.path, name: "det", seconds: 5, chunkFrames: 16, overlap: 6, extra: "keyframe_every = 2")
        let plan = Planner.plan(try SpecLoaderForTests.load(spec))
        #expect(plan.keyframeTrees.map(\.depth) == [1] && plan.keyframeTrees[0].setCount == 3)
        var checksums: [(latents: String?, frames: String?)] = []
        var frames: [Data] = []
        var artifacts: [[Data]] = []
        for workers in [1, 3] {
            let data = "\(directory.path)/data-\(workers)", out = "\(directory.path)/det-\(workers).mp4"
            let result = try ReelBinary.run(["render", spec, "--workers", "\(workers)", "--data", data, "--out", out])
            #expect(result.status == 0, "render with \(workers) worker(s) failed: \(result.err)")
            let store = try Store(path: "\(data)/reel.sqlite")
            let job = try #require(try store.job(1))
            checksums.append((job.latentChecksum, job.frameChecksum))
            frames.append(try decodedFrames(out))
            let tasks = try store.tasks(job: 1)
            let stored = try ArtifactStore(root: "\(data)/artifacts")
            artifacts.append(try tasks.map { Data(try stored.read(try #require(ArtifactLocation($0.artifact ?? "")))) })
            if workers == 3 { #expect(Set(tasks.compactMap(\.worker)).count >= 2, "the 3-worker render really was distributed") }
        }
        #expect(checksums[0].latents != nil && checksums[0].latents == checksums[1].latents, "stitched latents byte-identical")
        #expect(checksums[0].frames == checksums[1].frames, "decoded frames identical")
        #expect(!frames[0].isEmpty && frames[0] == frames[1], "the MP4s decode to identical frames")
        #expect(artifacts[0] == artifacts[1], "every chunk's latents byte-identical")

        // The farm computes exactly the pure pipeline of the spec: every task, run here in-process.
        let reference = try Reference.run(try SpecLoaderForTests.load(spec))
        for (unit, data) in artifacts[0].enumerated() {
            #expect(Data(LatentCodec.encode(reference.outputs[unit]!)) == data, "task \(unit) (\(reference.plan.units[unit].stage))")
        }
    }

    @Test func tiledRenderWritesTheMP4AndOnePNGPerFrame() throws {
        let directory = TemporaryDirectory()
        let spec = writeSpec(
            in: directory.path, name: "tiled", seconds: 2, width: 96, height: 64,
            extra: "tile_width = 48\ntile_height = 48\ntile_overlap = 16\npng_dir = \"frames\"")
        let result = try ReelBinary.run(["render", spec, "--workers", "2", "--data", "\(directory.path)/data"])
        #expect(result.status == 0, "\(result.err)")
        let tasks = try Store(path: "\(directory.path)/data/reel.sqlite").tasks(job: 1)
        #expect(tasks.filter { $0.stage == "chunks" }.count == 2 * 2 * 3, "2 time windows × 2×3 tiles, got \(tasks.count)")
        let pngs = try FileManager.default.contentsOfDirectory(atPath: "\(directory.path)/frames").filter { $0.hasSuffix(".png") }.sorted()
        #expect(pngs.count == 24)
        #expect(pngs.first == "frame-000001.png" && pngs.last == "frame-000024.png")
        let png = try probe("\(directory.path)/frames/frame-000012.png")
        #expect(png["codec_name"] == "png" && png["width"] == "96" && png["height"] == "64")
        #expect(try probe("\(directory.path)/tiled.mp4")["nb_read_frames"] == "24")
    }

    @Test func anotherSeedGivesAnotherVideo() throws {
        let directory = TemporaryDirectory()
        var checksums: [String?] = []
        for seed in [1, 2] {
            let spec = writeSpec(in: directory.path, name: "seed\(seed)", seconds: 2, seed: seed)
            let result = try ReelBinary.run(["render", spec, "--workers", "1", "--data", "\(directory.path)/data-\(seed)"])
            #expect(result.status == 0, "\(result.err)")
            checksums.append(try Store(path: "\(directory.path)/data-\(seed)/reel.sqlite").job(1)?.latentChecksum)
        }
        #expect(checksums[0] != nil && checksums[0] != checksums[1])
    }
}

/// The CLI's spec loading, reproduced for tests (the executable's own types are not importable).
enum SpecLoaderForTests {
    static func load(_ path: String) throws -> JobSpec {
        try JobSpecParser.parse(try String(contentsOfFile: path, encoding: .utf8), source: path) { (model: String) throws(SpecProblemError) in
            (model, try ModelFolder.geometry(model))
        }
    }
}
