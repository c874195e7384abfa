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

    func scaling(workerCounts: [Int]) throws -> [ScalingRow] {
        let seconds: Double = quick ? 120 : 600
        // 200 ms per chunk: still far shorter than a real model's chunk, so fixed costs per task show.
        let spec = simulatedSpec("bench-scaling", seconds: seconds, chunk: 16, overlap: 4, steps: 10, stepMilliseconds: 20)
        let redundancy = Planner.plan(spec).redundancy
        var rows: [ScalingRow] = []
        let counts = quick ? workerCounts.filter { $0 <= 16 } : workerCounts
        for count in counts {
            let run = try farm.run(spec, workers: count, timings: SchedulerTimings())
            let baseline = rows.first { $0.workers == 1 }?.wallSeconds
            rows.append(row("independent", run, baseline: baseline, redundancy: redundancy))
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
}
