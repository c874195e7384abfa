import Foundation
import ReelClient
import ReelCoordinator
import ReelCore
import ReelPlan
import ReelSampler
import ReelStitch

/// The benchmark suite's sections. Each returns rows for the printed table and the JSON.
struct BenchSections {
    let scratch: String
    let quick: Bool
    var farm: BenchFarm { BenchFarm(scratch: scratch) }

    func simulatedSpec(
        _ name: String, seconds: Double, size: Int = 32, chunk: Int, overlap: Int, steps: Int, stepMilliseconds: Int,
        consistency: ConsistencyMode = .independent
    ) -> JobSpec {
        var spec = JobSpec(
            name: name, prompt: "a long drive along the coast", seconds: seconds, fps: 24, width: size, height: size, seed: 7,
            backend: .simulated, steps: steps, chunkFrames: chunk, overlap: overlap, output: "\(scratch)/\(name).mp4",
            consistency: consistency)
        spec.stepMilliseconds = stepMilliseconds
        return spec
    }

    // MARK: Scaling

    struct ScalingRow: Codable {
        var mode: String
        var workers: Int
        var tasks: Int
        var wallSeconds: Double
        /// Against the 1-worker run of the same mode (nil for the rolling row).
        var speedup: Double?
        /// Sampler seconds reported by the committed results, over the workers.
        var idealSeconds: Double
        /// Ideal over wall: 1.0 means no worker ever waited (overlap redundancy not counted).
        var efficiency: Double
        /// Efficiency if the overlap's recomputed frames are counted as waste.
        var efficiencyCountingOverlap: Double
        var coordinatorCPUSeconds: Double
        var coordinatorCPUPercentOfSampler: Double
        var dispatchP50Milliseconds: Double
        var dispatchP99Milliseconds: Double
    }

    func scaling(maxWorkers: Int) throws -> [ScalingRow] {
        let seconds: Double = quick ? 120 : 600
        // 200 ms per chunk: still far shorter than a real model's chunk, so fixed costs per task show.
        let spec = simulatedSpec("bench-scaling", seconds: seconds, chunk: 16, overlap: 4, steps: 10, stepMilliseconds: 20)
        let redundancy = Planner.plan(spec).redundancy
        var rows: [ScalingRow] = []
        var counts = [1, 2, 4, 8, 16, 32, 64].filter { $0 <= maxWorkers }
        if quick { counts = counts.filter { $0 <= 16 } }
        for count in counts {
            let run = try farm.run(spec, workers: count, timings: SchedulerTimings())
            rows.append(row("independent", run, baseline: rows.first?.wallSeconds, redundancy: redundancy))
            BenchReport.progress("scaling: \(count) worker(s): \(String(format: "%.2f", run.wallSeconds)) s")
        }
        if let top = counts.last {
            var rolling = spec
            rolling.consistency = .rolling
            let run = try farm.run(rolling, workers: top, timings: SchedulerTimings())
            rows.append(row("rolling", run, baseline: nil, redundancy: Planner.plan(rolling).redundancy))
            BenchReport.progress("scaling: rolling mode, \(top) workers: \(String(format: "%.2f", run.wallSeconds)) s")
        }
        return rows
    }

    private func row(_ mode: String, _ run: BenchFarm.Run, baseline: Double?, redundancy: Double) -> ScalingRow {
        let ideal = run.metrics.samplerSeconds / Double(run.workers)
        let efficiency = ideal / run.wallSeconds
        return ScalingRow(
            mode: mode, workers: run.workers, tasks: run.tasks, wallSeconds: run.wallSeconds,
            speedup: baseline.map { $0 / run.wallSeconds }, idealSeconds: ideal, efficiency: efficiency,
            efficiencyCountingOverlap: efficiency / redundancy, coordinatorCPUSeconds: run.metrics.cpuSeconds,
            coordinatorCPUPercentOfSampler: 100 * run.metrics.cpuSeconds / max(run.metrics.samplerSeconds, 1e-9),
            dispatchP50Milliseconds: 1000 * (CoordinatorMetrics.quantile(run.metrics.dispatchLatencies, 0.5) ?? .nan),
            dispatchP99Milliseconds: 1000 * (CoordinatorMetrics.quantile(run.metrics.dispatchLatencies, 0.99) ?? .nan))
    }

    // MARK: Coordinator cost

    struct CoordinatorRow: Codable {
        var system: String
        var tasks: Int
        var resultKiB: Int
        var durable: Bool
        var tasksPerSecond: Double
        var millisecondsPerTask: Double
        var coordinatorCPUMillisecondsPerTask: Double?
        var roundTripP50Milliseconds: Double
        var roundTripP99Milliseconds: Double
        var dispatchP50Milliseconds: Double?
        var dispatchP99Milliseconds: Double?
        var groupCommits: Int?
    }

    func coordinatorCost(daskPeer: String?) throws -> [CoordinatorRow] {
        let tasks = quick ? 1000 : 3000, sequential = quick ? 200 : 400
        // 11 frames of 32x32x3 half floats: 66 KiB per result, like the peer's 64 KiB.
        func spec(_ count: Int) -> JobSpec {
            simulatedSpec("bench-coordinator", seconds: Double(11 * count) / 24, chunk: 11, overlap: 0, steps: 1, stepMilliseconds: 0)
        }
        let resultKiB = 11 * 32 * 32 * 3 * 2 / 1024
        // Like the peer, which has every task queued at once: a deep prefetch keeps both workers fed.
        let throughput = try farm.run(spec(tasks), workers: 2, timings: SchedulerTimings(prefetch: 16))
        BenchReport.progress("coordinator: \(tasks) tasks in \(String(format: "%.2f", throughput.wallSeconds)) s")
        let latency = try farm.run(spec(sequential), workers: 1, timings: SchedulerTimings(prefetch: 0))
        BenchReport.progress("coordinator: \(sequential) sequential round trips")
        var rows = [
            CoordinatorRow(
                system: "reel", tasks: throughput.tasks, resultKiB: resultKiB, durable: true,
                tasksPerSecond: Double(throughput.tasks) / throughput.wallSeconds,
                millisecondsPerTask: 1000 * throughput.wallSeconds / Double(throughput.tasks),
                coordinatorCPUMillisecondsPerTask: 1000 * throughput.metrics.cpuSeconds / Double(throughput.tasks),
                roundTripP50Milliseconds: 1000 * (CoordinatorMetrics.quantile(latency.metrics.roundTrips, 0.5) ?? .nan),
                roundTripP99Milliseconds: 1000 * (CoordinatorMetrics.quantile(latency.metrics.roundTrips, 0.99) ?? .nan),
                dispatchP50Milliseconds: 1000 * (CoordinatorMetrics.quantile(throughput.metrics.dispatchLatencies, 0.5) ?? .nan),
                dispatchP99Milliseconds: 1000 * (CoordinatorMetrics.quantile(throughput.metrics.dispatchLatencies, 0.99) ?? .nan),
                groupCommits: throughput.metrics.commitBatches)
        ]
        if let daskPeer {
            do {
                let peer = try BenchReport.runJSON(
                    [daskPeer, "--tasks", "\(tasks)", "--sequential", "\(sequential)", "--result-bytes", "65536"],
                    as: DaskPeerResult.self)
                rows.append(
                    CoordinatorRow(
                        system: "dask.distributed \(peer.version)", tasks: peer.tasks, resultKiB: 64, durable: false,
                        tasksPerSecond: peer.tasksPerSecond, millisecondsPerTask: 1000 / peer.tasksPerSecond,
                        coordinatorCPUMillisecondsPerTask: nil, roundTripP50Milliseconds: peer.roundTripP50Milliseconds,
                        roundTripP99Milliseconds: peer.roundTripP99Milliseconds, dispatchP50Milliseconds: nil, dispatchP99Milliseconds: nil,
                        groupCommits: nil))
            } catch {
                BenchReport.progress("coordinator: the dask peer did not run: \(error)")
            }
        }
        return rows
    }

    struct DaskPeerResult: Codable {
        var version: String
        var tasks: Int
        var tasksPerSecond: Double
        var roundTripP50Milliseconds: Double
        var roundTripP99Milliseconds: Double
    }

    // MARK: Size

    struct SizeRow: Codable {
        var videoMinutes: Int
        var tasks: Int
        var planningSeconds: Double
        var submitSeconds: Double
        var coordinatorPeakMegabytes: Double
        var coordinatorIdleMegabytes: Double
        var databaseMegabytes: Double
    }

    /// A real coordinator process with one long 1080p-latent job submitted (no workers).
    func size() throws -> [SizeRow] {
        var rows: [SizeRow] = []
        for minutes in quick ? [15, 30] : [30, 60, 120] {
            var spec = JobSpec(
                name: "bench-size-\(minutes)", prompt: "a long drive", seconds: Double(minutes * 60), fps: 24, width: 1920, height: 1088,
                seed: 1, tileWidth: 512, tileHeight: 512, output: "\(scratch)/size-\(minutes).mp4")
            spec.output = "\(scratch)/size-\(minutes).mp4"
            var planning = Double.infinity
            for _ in 0..<3 {
                let started = Date()
                _ = Planner.plan(spec)
                planning = min(planning, Date().timeIntervalSince(started))
            }
            let data = "\(scratch)/size-\(minutes)"
            defer { try? FileManager.default.removeItem(atPath: data) }
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: ProcessSetup.executablePath)
            process.arguments = [
                "coordinator", "--data", data, "--bind", "tcp://127.0.0.1:*", "--output-root", scratch, "--log-level", "error",
            ]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            defer {
                process.terminate()
                process.waitUntilExit()
            }
            var endpoint: String?
            for _ in 0..<300 where endpoint == nil {
                endpoint = CoordinatorClient.endpoint(inDataDirectory: data)
                if endpoint == nil { Thread.sleep(forTimeInterval: 0.05) }
            }
            guard let endpoint else { throw ReelError(.network, "the size benchmark's coordinator did not start") }
            let pid = "\(process.processIdentifier)"
            let idle = ProcessMemory.megabytes("VmRSS", pid: pid) ?? .nan
            let client = try CoordinatorClient(endpoint: endpoint)
            client.timeoutSeconds = 120
            let started = Date()
            let job = try client.submit(spec)
            let submit = Date().timeIntervalSince(started)
            let tasks = try client.status(job: job).jobs.first?.chunksTotal ?? 0
            let database = ["reel.sqlite", "reel.sqlite-wal"].compactMap {
                try? FileManager.default.attributesOfItem(atPath: "\(data)/\($0)")[.size] as? Int
            }.reduce(0, +)
            rows.append(
                SizeRow(
                    videoMinutes: minutes, tasks: tasks, planningSeconds: planning, submitSeconds: submit,
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
        var spec = JobSpec(
            name: "bench-stitch", prompt: "a long drive", seconds: Double(seconds), fps: 24, width: 256, height: 144, seed: 3,
            backend: .simulated, output: "\(scratch)/stitch-\(seconds).mp4", consistency: .independent)
        spec.output = "\(scratch)/stitch-\(seconds).mp4"
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
