import Foundation
import ReelCoordinator
import ReelCore
import ReelPlan
import ReelSampler
import ReelStore

/// Scaling to 256 workers in every mode, measured to the finished MP4. Every run is a child
/// process (`--farm-child`), so its peak memory is its own.
extension BenchSections {
    /// One farm run as a child process measures it.
    struct FarmResult: Codable {
        var workers: Int
        var tasks: Int
        var toLastCommitSeconds: Double
        var toOutputSeconds: Double
        var encodeBacklogFrames: Int?
        var samplerSeconds: Double
        var cpuSeconds: Double
        var encodeCPUSeconds: Double
        var dispatchP50Milliseconds: Double?
        var dispatchP99Milliseconds: Double?
        /// Nil when no task needed conditioning (independent mode).
        var conditioningP99Milliseconds: Double?
        var peakMegabytes: Double?
        /// The job's first tasks, one to every worker at once (not in the dispatch latencies).
        var jobStartP99Milliseconds: Double?
    }

    /// What a child is asked to run.
    struct FarmRequest: Codable {
        var spec: JobSpec
        var workers: Int
        /// Whether the workers run `SCHED_IDLE` (``BenchFarm/workersYield``); absent: they do.
        var workersYield: Bool?
    }

    struct ScalingRow: Codable {
        var mode: String
        var workers: Int
        var tasks: Int
        var videoSeconds: Double
        /// Sampler seconds the committed results report, over the workers.
        var idealSeconds: Double
        /// The plan's critical path (its longest chain of dependent tasks) at the spec's step time.
        var criticalPathSeconds: Double
        /// What a farm with no overhead takes, each task sent the moment a worker is free, in
        /// page order, as the scheduler (`PlanCost.scheduledSteps`): the keyframe levels' idle workers included.
        var scheduledSeconds: Double
        var toLastCommitSeconds: Double
        var toOutputSeconds: Double
        /// Last commit to finished MP4.
        var tailSeconds: Double
        /// Frames the encode had still to write at the last commit: what the tail works off.
        var encodeBacklogFrames: Int?
        /// Ideal over the time to the finished MP4.
        var efficiency: Double
        /// Ideal over the time to the last commit.
        var efficiencyToLastCommit: Double
        /// The best efficiency any schedule reaches: ideal / max(ideal, critical path).
        var bound: Double
        /// The overhead-free schedule's time over the time to the finished MP4: what the farm
        /// itself (sending, committing, encoding) leaves of the policy's best.
        var ofSchedule: Double
        /// Every sampling task's work (keyframes, chunks, seams) over sampling the video once.
        var sampledCompute: Double
        /// The coordinator process's CPU, its encode threads left out, over the sampler time.
        var coordinatorCPUPercentOfSampler: Double
        /// The encode threads' CPU over the sampler time.
        var encodeCPUPercentOfSampler: Double
        var peakMegabytes: Double?
        var dispatchP50Milliseconds: Double?
        var dispatchP99Milliseconds: Double?
        var conditioningP99Milliseconds: Double?
        var jobStartP99Milliseconds: Double?
    }

    /// Chunks of 10 steps × 100 ms (1 s each, seams less): short beside a real model's, so
    /// fixed costs per task show, yet long enough that 256 sleeping workers fit on 2 cores.
    static let scalingSteps = 10, scalingStepMilliseconds = 100

    /// Independent and rolling modes with the video's length growing with the workers (the
    /// same work per worker: 20 s of video, about 27 chunks and seams, 40-50 s of sampling),
    /// autoregressive on one short video (it is serial by design).
    func scaling(workerCounts: [Int]) throws -> [ScalingRow] {
        var rows: [ScalingRow] = []
        let perWorker: Double = quick ? 2.5 : 20
        for mode in [ConsistencyMode.independent, .rolling] {
            for count in workerCounts {
                rows.append(try scalingRun(mode, seconds: perWorker * Double(count), workers: count))
            }
        }
        let serialCounts = quick ? workerCounts : workerCounts.filter { [1, 16, 256].contains($0) || $0 == workerCounts.last }
        for count in serialCounts {
            rows.append(try scalingRun(.autoregressive, seconds: quick ? 8 : 15, workers: count))
        }
        return rows
    }

    func scalingRun(_ mode: ConsistencyMode, seconds: Double, workers count: Int) throws -> ScalingRow {
        let spec = scalingSpec(mode, seconds: seconds, workers: count)
        let run = try farmRun(spec, workers: count)
        let plan = Planner.plan(spec)
        let cost = PlanCost.of(spec, plan)
        let ideal = run.samplerSeconds / Double(count)
        let critical = Double(cost.criticalPathSteps * Self.scalingStepMilliseconds) / 1000
        let scheduledSteps = PlanCost.scheduledSteps(spec, plan, workers: count, order: Planner.pageOrder(plan))
        let scheduled = Double(scheduledSteps * Self.scalingStepMilliseconds) / 1000
        let row = ScalingRow(
            mode: mode.rawValue, workers: count, tasks: run.tasks, videoSeconds: seconds, idealSeconds: ideal,
            criticalPathSeconds: critical, scheduledSeconds: scheduled, toLastCommitSeconds: run.toLastCommitSeconds,
            toOutputSeconds: run.toOutputSeconds, tailSeconds: run.toOutputSeconds - run.toLastCommitSeconds,
            encodeBacklogFrames: run.encodeBacklogFrames, efficiency: ideal / run.toOutputSeconds,
            efficiencyToLastCommit: ideal / run.toLastCommitSeconds, bound: ideal / max(ideal, critical),
            ofSchedule: scheduled / run.toOutputSeconds, sampledCompute: cost.factor,
            coordinatorCPUPercentOfSampler: 100 * (run.cpuSeconds - run.encodeCPUSeconds) / max(run.samplerSeconds, 1e-9),
            encodeCPUPercentOfSampler: 100 * run.encodeCPUSeconds / max(run.samplerSeconds, 1e-9), peakMegabytes: run.peakMegabytes,
            dispatchP50Milliseconds: run.dispatchP50Milliseconds, dispatchP99Milliseconds: run.dispatchP99Milliseconds,
            conditioningP99Milliseconds: run.conditioningP99Milliseconds, jobStartP99Milliseconds: run.jobStartP99Milliseconds)
        BenchReport.progress(
            String(
                format: "scaling: %@, %d worker(s), %.0f s of video: %.2f s to the MP4 (ideal %.2f s, tail %.2f s)", mode.rawValue, count,
                seconds,
                run.toOutputSeconds, ideal, row.tailSeconds))
        return row
    }

    /// The scaling and tail sections' video: 32×32, 16-frame chunks overlapping by 4, each 1 s of sampling.
    func scalingSpec(_ mode: ConsistencyMode, seconds: Double, workers count: Int) -> JobSpec {
        var spec = simulatedSpec(
            "bench-\(mode.rawValue)-\(count)", seconds: seconds, chunk: 16, overlap: 4, steps: Self.scalingSteps,
            stepMilliseconds: Self.scalingStepMilliseconds, consistency: mode)
        spec.output = "\(scratch)/\(spec.name).mp4"
        return spec
    }

    /// Renders `spec` to the MP4 on a farm of `count` workers in a child process.
    func farmRun(_ spec: JobSpec, workers count: Int) throws -> FarmResult {
        let request = "\(scratch)/\(spec.name).request.json"
        let body = FarmRequest(spec: spec, workers: count, workersYield: farm.workersYield)
        try JSONCoding.encoder.encode(body).write(to: URL(fileURLWithPath: request))
        return try BenchReport.runJSON(
            [ProcessSetup.executablePath, "bench", "--farm-child", request, "--scratch", scratch], as: FarmResult.self)
    }

    /// In a child process: one farm run of the requested spec, encode included.
    static func farmChild(request path: String, scratch: String) throws -> FarmResult {
        let request = try JSONCoding.decoder.decode(FarmRequest.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        let farm = BenchFarm(scratch: scratch, workersYield: request.workersYield ?? true)
        let run = try farm.run(request.spec, workers: request.workers, timings: SchedulerTimings(), encode: true)
        let metrics = run.metrics
        guard let toOutput = run.toOutputSeconds else { throw ReelError(.encode, "the bench job finished without its MP4") }
        func milliseconds(_ samples: [Double], _ quantile: Double) -> Double? {
            CoordinatorMetrics.quantile(samples, quantile).map { 1000 * $0 }
        }
        return FarmResult(
            workers: run.workers, tasks: run.tasks, toLastCommitSeconds: run.wallSeconds, toOutputSeconds: toOutput,
            encodeBacklogFrames: run.encodeBacklogFrames,
            samplerSeconds: metrics.samplerSeconds, cpuSeconds: run.renderCPUSeconds, encodeCPUSeconds: metrics.encodeCPUSeconds,
            dispatchP50Milliseconds: milliseconds(metrics.dispatchLatencies, 0.5),
            dispatchP99Milliseconds: milliseconds(metrics.dispatchLatencies, 0.99),
            conditioningP99Milliseconds: milliseconds(metrics.conditioningSeconds, 0.99), peakMegabytes: ProcessMemory.megabytes("VmHWM"),
            jobStartP99Milliseconds: milliseconds(metrics.jobStartLatencies, 0.99))
    }
}
