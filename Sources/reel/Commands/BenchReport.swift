import Foundation
import ReelCoordinator
import ReelCore
import ReelStore

/// Everything one run of `reel bench` measured, printed as tables and saved as JSON.
struct BenchReport: Codable {
    var machine = ""
    var scaling: [BenchSections.ScalingRow]?
    var tail: [BenchSections.TailRow]?
    var coordinator: [BenchSections.CoordinatorRow]?
    var size: [BenchSections.SizeRow]?
    var stitch: [BenchSections.StitchRow]?
    var procedural: [BenchSections.SamplerRow]?
    var diffusers: [BenchSections.DiffusersRow]?

    static func progress(_ line: String) {
        FileHandle.standardError.write(Data("bench: \(line)\n".utf8))
    }

    static func machineDescription() -> String {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let memory = ProcessInfo.processInfo.physicalMemory >> 30
        return "\(cores) cores, \(memory) GiB, \(ProcessInfo.processInfo.operatingSystemVersionString)"
    }

    /// Runs a command that prints one JSON object on its standard output, and decodes it.
    static func runJSON<T: Decodable>(_ command: [String], as type: T.Type) throws -> T {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ReelError(.usage, "\(command.joined(separator: " ")) exited with status \(process.terminationStatus)")
        }
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        return try JSONCoding.decoder.decode(T.self, from: Data(line.utf8))
    }

    func tables() -> String {
        var out = "Reel benchmark (\(machine))\n"
        func number(_ value: Double?, _ digits: Int = 2) -> String {
            guard let value, value.isFinite else { return "-" }
            return String(format: "%.\(digits)f", value)
        }
        if let procedural {
            out += table(
                "Sampler speed (one thread)", ["backend", "voxels", "steps", "CPU s", "voxel-steps/s/core"],
                procedural.map {
                    [
                        $0.backend, "\($0.voxels)", "\($0.steps)", number($0.cpuSeconds, 3),
                        String(format: "%.3g", $0.voxelStepsPerSecondPerCore),
                    ]
                })
        }
        if let diffusers {
            out += table(
                "Diffusers backend on tiny models, this CPU (sidecar, 1 torch thread)",
                [
                    "family", "chunk", "steps", "cold start s", "load s", "task s", "model s", "stitch s", "farm overhead", "pipeline s",
                    "decode frames/s",
                ],
                diffusers.map {
                    [
                        $0.family, $0.chunk, "\($0.steps)", number($0.coldStartSeconds), number($0.loadSeconds), number($0.taskSeconds, 3),
                        number($0.modelSeconds, 3), number($0.stitchSeconds, 4), String(format: "%.1f%%", $0.overheadFraction * 100),
                        number($0.pipelineSeconds, 3),
                        number($0.decodeFramesPerSecond, 1),
                    ]
                })
        }
        if let stitch {
            out += table(
                "Stitch + decode + encode (256x144, H.264)", ["video s", "frames", "wall s", "frames/s", "peak MB"],
                stitch.map {
                    [
                        "\($0.videoSeconds)", "\($0.frames)", number($0.wallSeconds), number($0.framesPerSecond, 0),
                        number($0.peakMegabytes, 0),
                    ]
                })
        }
        if let size {
            out += table(
                "Plan size (1920x1088 latent, 1024x544 tiles, 16-frame chunks overlapping by 4, rolling; coordinator process, no workers)",
                ["minutes", "tasks", "plan s", "submit s", "all rows s", "idle MB", "peak MB", "DB MB"],
                size.map {
                    [
                        "\($0.videoMinutes)", "\($0.tasks)", number($0.planningSeconds, 3), number($0.submitSeconds),
                        number($0.insertSeconds),
                        number($0.coordinatorIdleMegabytes, 0),
                        number($0.coordinatorPeakMegabytes, 0), number($0.databaseMegabytes, 1),
                    ]
                })
        }
        if let coordinator {
            out += table(
                "Coordinator cost (2 workers, loopback; round trip: one task at a time)",
                [
                    "system", "tasks", "result KiB", "durable", "tasks/s", "ms/task", "coord CPU ms/task", "RTT p50 ms", "RTT p99 ms",
                    "dispatch p50 ms", "dispatch p99 ms",
                ],
                coordinator.map {
                    [
                        $0.system, "\($0.tasks)", "\($0.resultKiB)", $0.durable ? "yes" : "no", number($0.tasksPerSecond, 0),
                        number($0.millisecondsPerTask, 3),
                        number($0.coordinatorCPUMillisecondsPerTask, 3), number($0.roundTripP50Milliseconds),
                        number($0.roundTripP99Milliseconds),
                        number($0.dispatchP50Milliseconds, 3), number($0.dispatchP99Milliseconds, 3),
                    ]
                })
            if let watched = coordinator.first(where: { $0.system == "reel, watched" }), let ratio = watched.pairedThroughputRatio {
                out += String(
                    format:
                        "watched (API serving, the dashboard's live feed open, /metrics scraped every second): %.1f%% of the unwatched throughput (median over pairs of runs side by side; rows: medians)\n\n",
                    100 * ratio)
            }
            if let reel = coordinator.first(where: { $0.system == "reel" }),
                let peer = coordinator.first(where: { $0.system.hasPrefix("dask") })
            {
                out += String(
                    format: "throughput %.1fx the peer's; round-trip p99 %.2f of the peer's\n\n", reel.tasksPerSecond / peer.tasksPerSecond,
                    reel.roundTripP99Milliseconds / peer.roundTripP99Milliseconds)
            }
        }
        let header = [
            "mode", "workers", "tasks", "video s", "compute", "ideal s", "crit. path s", "sched. s", "to last commit s", "to MP4 s",
            "tail s", "backlog frames", "eff. to MP4", "eff. to commit", "bound", "of sched.", "coord CPU %", "encode CPU %", "peak MB",
            "dispatch p50 / p99 ms", "conditioning p99 ms", "job start p99 ms",
        ]
        func rows(_ list: [BenchSections.ScalingRow]) -> [[String]] {
            list.map {
                [
                    $0.mode, "\($0.workers)", "\($0.tasks)", number($0.videoSeconds, 0), number($0.sampledCompute, 3) + "x",
                    number($0.idealSeconds), number($0.criticalPathSeconds), number($0.scheduledSeconds), number($0.toLastCommitSeconds),
                    number($0.toOutputSeconds),
                    number($0.tailSeconds), $0.encodeBacklogFrames.map { "\($0)" } ?? "-", number(100 * $0.efficiency, 1) + "%",
                    number(100 * $0.efficiencyToLastCommit, 1) + "%", number(100 * $0.bound, 1) + "%", number(100 * $0.ofSchedule, 1) + "%",
                    number($0.coordinatorCPUPercentOfSampler, 3), number($0.encodeCPUPercentOfSampler, 3),
                    number($0.peakMegabytes, 0),
                    number($0.dispatchP50Milliseconds, 2) + " / " + number($0.dispatchP99Milliseconds, 2),
                    number($0.conditioningP99Milliseconds, 2),
                    number($0.jobStartP99Milliseconds, 1),
                ]
            }
        }
        let setting =
            "simulated backend, 32x32 at 24 fps, 16-frame chunks overlapping by 4, \(BenchSections.scalingSteps) steps x \(BenchSections.scalingStepMilliseconds) ms; ideal = sampler time / workers; bound = ideal / max(ideal, critical path); sched. = a farm without overhead dispatching in page order; of sched. = sched. / to MP4"
        if let scaling {
            out += table(
                "Scaling to the finished MP4 (\(setting); independent and rolling videos grow with the workers)", header, rows(scaling))
        }
        if let tail { out += tailTable(tail) }
        return out
    }

    /// The tail rows (medians, and each list's range), then each farm's longest video's median
    /// tail over its shortest's: the target is 0.9-1.1.
    private func tailTable(_ tail: [BenchSections.TailRow]) -> String {
        func median(_ values: [Double]) -> Double { CoordinatorMetrics.quantile(values, 0.5) ?? .nan }
        func spread(_ values: [Double], _ digits: Int) -> String {
            String(format: "%.\(digits)f-%.\(digits)f", values.min() ?? .nan, values.max() ?? .nan)
        }
        var out = table(
            "Tail after the last commit against video length (rolling; medians of the runs, then their range;"
                + " waves = frames / (workers x chunk stride))",
            [
                "workers", "video min", "tasks", "waves", "runs", "to last commit s", "tail s", "tail range s", "backlog frames",
                "backlog range",
            ],
            tail.map { row in
                let backlog = row.backlogFrames.map(Double.init)
                return [
                    "\(row.workers)", String(format: "%.1f", row.videoSeconds / 60), "\(row.tasks)", String(format: "%.1f", row.waves),
                    "\(row.tailSeconds.count)", String(format: "%.2f", median(row.toLastCommitSeconds)),
                    String(format: "%.3f", median(row.tailSeconds)), spread(row.tailSeconds, 3), String(format: "%.0f", median(backlog)),
                    spread(backlog, 0),
                ]
            })
        for workers in Set(tail.map(\.workers)).sorted() {
            let farm = tail.filter { $0.workers == workers }.sorted { $0.videoSeconds < $1.videoSeconds }
            guard let short = farm.first, let long = farm.last, farm.count > 1 else { continue }
            out += String(
                format: "%d workers: median tail at %.1f min over at %.1f min: %.2f\n", workers, long.videoSeconds / 60,
                short.videoSeconds / 60, median(long.tailSeconds) / median(short.tailSeconds))
        }
        return out + "\n"
    }

    private func table(_ title: String, _ header: [String], _ rows: [[String]]) -> String {
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            "| " + cells.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: " | ") + " |"
        }
        return "\(title)\n" + line(header) + "\n" + line(widths.map { String(repeating: "-", count: $0) }) + "\n"
            + rows.map(line).joined(separator: "\n") + "\n\n"
    }
}
