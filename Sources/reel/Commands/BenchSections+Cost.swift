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
}
