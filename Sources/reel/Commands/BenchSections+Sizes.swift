import Foundation
import ReelClient
import ReelCoordinator
import ReelCore
import ReelPlan
import ReelSampler
import ReelStitch
import ReelStore

/// Plan size, stitch speed and sampler speed.
extension BenchSections {
    // MARK: Size

    struct SizeRow: Codable {
        var videoMinutes: Int
        var tasks: Int
        var planningSeconds: Double
        /// SUBMIT's round trip (the job and its first batch of task rows).
        var submitSeconds: Double
        /// Until every task row is in the store (the rest go in in batches while the coordinator serves).
        var insertSeconds: Double
        var coordinatorPeakMegabytes: Double
        var coordinatorIdleMegabytes: Double
        var databaseMegabytes: Double
    }

    /// A real coordinator process with one long 1080p-latent job submitted (no workers), in
    /// rolling mode with 16-frame chunks: a keyframe set holds a chunk's frames whole, and 48
    /// (the default) of 1920x1088 procedural latents are more than a task may carry. Tiles of
    /// 1024x544 keep the two-hour job under the task limit (512x512 would be over it).
    func size() throws -> [SizeRow] {
        var rows: [SizeRow] = []
        for minutes in quick ? [15, 30] : [30, 60, 120] {
            let spec = JobSpec(
                name: "bench-size-\(minutes)", prompt: "a long drive", seconds: Double(minutes * 60), fps: 24, width: 1920, height: 1088,
                seed: 1, chunkFrames: 16, overlap: 4, tileWidth: 1024, tileHeight: 544, output: "\(scratch)/size-\(minutes).mp4")
            var planning = Double.infinity
            for _ in 0..<3 {
                let started = Date()
                _ = Planner.plan(spec)
                planning = min(planning, Date().timeIntervalSince(started))
            }
            let data = "\(scratch)/size-\(minutes)"
            defer { try? FileManager.default.removeItem(atPath: data) }
            let cluster = try LocalCluster(data: data, workers: 0, outputRoot: scratch)
            defer { cluster.stop() }
            let pid = "\(cluster.coordinatorPID)"
            let idle = ProcessMemory.megabytes("VmRSS", pid: pid) ?? .nan
            let client = try CoordinatorClient(endpoint: cluster.endpoint)
            client.timeoutSeconds = 120
            let started = Date()
            let job = try client.submit(spec)
            let submit = Date().timeIntervalSince(started)
            let tasks = try client.status(job: job).jobs.first?.chunksTotal ?? 0
            let store = try Store(path: "\(data)/reel.sqlite")
            while try (store.taskSpan(job: job)?.count ?? 0) < tasks && Date().timeIntervalSince(started) < 300 {
                Thread.sleep(forTimeInterval: 0.01)
            }
            let insert = Date().timeIntervalSince(started)
            let database = ["reel.sqlite", "reel.sqlite-wal"].compactMap {
                try? FileManager.default.attributesOfItem(atPath: "\(data)/\($0)")[.size] as? Int
            }.reduce(0, +)
            rows.append(
                SizeRow(
                    videoMinutes: minutes, tasks: tasks, planningSeconds: planning, submitSeconds: submit, insertSeconds: insert,
                    coordinatorPeakMegabytes: ProcessMemory.megabytes("VmHWM", pid: pid) ?? .nan, coordinatorIdleMegabytes: idle,
                    databaseMegabytes: Double(database) / 1_048_576))
            BenchReport.progress("size: \(minutes) min, \(tasks) tasks")
        }
        return rows
    }

    // MARK: Stitch and encode

    struct StitchRow: Codable {
        var videoSeconds: Int
        var frames: Int
        var wallSeconds: Double
        var framesPerSecond: Double
        var peakMegabytes: Double
    }

    func stitch() throws -> [StitchRow] {
        try (quick ? [20, 80] : [60, 240]).map { seconds in
            let row = try BenchReport.runJSON(
                [ProcessSetup.executablePath, "bench", "--stitch-child", "\(seconds)", "--scratch", scratch], as: StitchRow.self)
            BenchReport.progress("stitch: \(seconds) s of video at \(String(format: "%.0f", row.framesPerSecond)) frames/s")
            return row
        }
    }

    /// In a child process: stitch, decode and encode `seconds` of 256x144 simulated video
    /// (chunks computed on the fly), and report speed and this process's peak memory.
    static func stitchChild(seconds: Int, scratch: String) throws -> StitchRow {
        let spec = JobSpec(
            name: "bench-stitch", prompt: "a long drive", seconds: Double(seconds), fps: 24, width: 256, height: 144, seed: 3,
            backend: .simulated, output: "\(scratch)/stitch-\(seconds).mp4", consistency: .independent)
        let plan = Planner.plan(spec)
        let started = Date()
        let outcome = try VideoAssembler.assemble(spec: spec, plan: plan) { chunk in
            SimulatedDenoiser.content(region: chunk.region, frames: Array(chunk.region.frames), channels: spec.grid.channels)
        }
        let wall = Date().timeIntervalSince(started)
        try? FileManager.default.removeItem(atPath: spec.output)
        return StitchRow(
            videoSeconds: seconds, frames: outcome.frames, wallSeconds: wall, framesPerSecond: Double(outcome.frames) / wall,
            peakMegabytes: ProcessMemory.megabytes("VmHWM") ?? .nan)
    }

    // MARK: Procedural backend

    struct SamplerRow: Codable {
        var backend: String
        var voxels: Int
        var steps: Int
        var cpuSeconds: Double
        var voxelStepsPerSecondPerCore: Double
    }

    /// One demo-sized chunk (48 frames of 256x144x3, 10 steps) on one thread.
    func procedural() -> [SamplerRow] {
        let spec = JobSpec(
            name: "bench-sampler", prompt: "kites over a beach", seconds: 2, fps: 24, width: 256, height: 144, seed: 5, output: "x.mp4")
        let work = ChunkWork(spec: spec, chunk: Planner.plan(spec).chunks[0])
        let voxels = work.resultCount
        var best = Double.infinity
        for _ in 0..<(quick ? 1 : 3) {
            let started = CoordinatorMetrics.threadCPUSeconds()
            _ = ChunkSampler.sample(work)
            best = min(best, CoordinatorMetrics.threadCPUSeconds() - started)
        }
        BenchReport.progress("procedural: \(voxels) voxels x \(work.steps) steps in \(String(format: "%.3f", best)) s")
        return [
            SamplerRow(
                backend: "procedural", voxels: voxels, steps: work.steps, cpuSeconds: best,
                voxelStepsPerSecondPerCore: Double(voxels * work.steps) / best)
        ]
    }
}
