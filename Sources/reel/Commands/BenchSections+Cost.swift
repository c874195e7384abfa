import Foundation
import ReelClient
import ReelCoordinator
import ReelCore
import ReelPlan
import ReelSampler
import ReelStitch

/// Coordinator cost, side by side with the Dask peer.
extension BenchSections {
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
        /// Watched runs: the median over pairs of runs of watched / unwatched throughput.
        var pairedThroughputRatio: Double? = nil
    }

    /// A throughput row (no round trips: those are measured one task at a time).
    private func row(_ system: String, _ run: BenchFarm.Run) -> CoordinatorRow {
        CoordinatorRow(
            system: system, tasks: run.tasks, resultKiB: 11 * 32 * 32 * 3 * 2 / 1024, durable: true,
            tasksPerSecond: Double(run.tasks) / run.wallSeconds, millisecondsPerTask: 1000 * run.wallSeconds / Double(run.tasks),
            coordinatorCPUMillisecondsPerTask: 1000 * run.metrics.cpuSeconds / Double(run.tasks), roundTripP50Milliseconds: .nan,
            roundTripP99Milliseconds: .nan,
            dispatchP50Milliseconds: 1000 * (CoordinatorMetrics.quantile(run.metrics.dispatchLatencies, 0.5) ?? .nan),
            dispatchP99Milliseconds: 1000 * (CoordinatorMetrics.quantile(run.metrics.dispatchLatencies, 0.99) ?? .nan),
            groupCommits: run.metrics.commitBatches)
    }

    func coordinatorCost(daskPeer: String?) throws -> [CoordinatorRow] {
        let tasks = quick ? 1000 : 3000, sequential = quick ? 200 : 400
        // 11 frames of 32x32x3 half floats: 66 KiB per result, like the peer's 64 KiB.
        func spec(_ count: Int) -> JobSpec {
            simulatedSpec("bench-coordinator", seconds: Double(11 * count) / 24, chunk: 11, overlap: 0, steps: 1, stepMilliseconds: 0)
        }
        // Like the peer, which has every task queued at once: a deep prefetch keeps both workers fed.
        let throughput = try farm.run(spec(tasks), workers: 2, timings: SchedulerTimings(prefetch: 16))
        BenchReport.progress("coordinator: \(tasks) tasks in \(String(format: "%.2f", throughput.wallSeconds)) s")
        // The operator's view side by side: long enough for a scrape a second and the live feed
        // to matter, pairs of runs in alternating order, the median of each kept (this machine is shared).
        let watchTasks = quick ? 3000 : 10000, pairs = quick ? 1 : 5
        var unwatchedRuns: [BenchFarm.Run] = [], watchedRuns: [BenchFarm.Run] = []
        for pair in 0..<pairs {
            for watched in pair % 2 == 0 ? [false, true] : [true, false] {
                let run = try farm.run(spec(watchTasks), workers: 2, timings: SchedulerTimings(prefetch: 16), watched: watched)
                if watched { watchedRuns.append(run) } else { unwatchedRuns.append(run) }
            }
        }
        let median = { (runs: [BenchFarm.Run]) in runs.sorted { $0.wallSeconds < $1.wallSeconds }[runs.count / 2] }
        let unwatched = median(unwatchedRuns), watched = median(watchedRuns)
        BenchReport.progress(
            "coordinator: \(watchTasks) tasks, \(pairs) runs each: unwatched \(unwatchedRuns.map { String(format: "%.2f", $0.wallSeconds) }.joined(separator: ", ")) s; watched \(watchedRuns.map { String(format: "%.2f", $0.wallSeconds) }.joined(separator: ", ")) s"
        )
        // Each pair's ratio: the machine's pace drifts between pairs more than within one.
        let ratios = zip(unwatchedRuns, watchedRuns).map { $0.wallSeconds / $1.wallSeconds }.sorted()
        var watchedRow = row("reel, watched", watched)
        watchedRow.pairedThroughputRatio = ratios[ratios.count / 2]
        BenchReport.progress(
            "coordinator: watched / unwatched throughput per pair: \(ratios.map { String(format: "%.3f", $0) }.joined(separator: ", "))")
        let latency = try farm.run(spec(sequential), workers: 1, timings: SchedulerTimings(prefetch: 0))
        BenchReport.progress("coordinator: \(sequential) sequential round trips")
        var reel = row("reel", throughput)
        reel.roundTripP50Milliseconds = 1000 * (CoordinatorMetrics.quantile(latency.metrics.roundTrips, 0.5) ?? .nan)
        reel.roundTripP99Milliseconds = 1000 * (CoordinatorMetrics.quantile(latency.metrics.roundTrips, 0.99) ?? .nan)
        var rows = [
            reel,
            row("reel, unwatched", unwatched), watchedRow,
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
}
