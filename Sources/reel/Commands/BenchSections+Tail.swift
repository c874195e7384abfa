import Foundation
import ReelCore

/// The tail (last commit to finished MP4) of a rolling render against video length, at two
/// farm sizes, each length rendered several times: a tail is tens of milliseconds, less than
/// this machine's run-to-run noise, so one render of each says little (decision 0051).
extension BenchSections {
    /// One video length on one farm, over ``tailRuns`` renders (lists in the order they ran).
    struct TailRow: Codable {
        var workers: Int
        var videoSeconds: Double
        var tasks: Int
        /// The video's frames over the new frames one wave of the farm samples (a chunk's
        /// stride per worker). Under about 3 the last wave holds a large share of the video and
        /// commits at once, and the tail is its encode.
        var waves: Double
        var toLastCommitSeconds: [Double]
        var tailSeconds: [Double]
        /// Frames the encode had still to write at each last commit.
        var backlogFrames: [Int]
    }

    /// Renders per length and farm size.
    var tailRuns: Int { quick ? 1 : 3 }

    /// A short and a ten times longer rolling video at 64 and 256 workers, the lengths
    /// interleaved so that drift in the machine's load falls on both.
    func tail() throws -> [TailRow] {
        let (farms, minutes): ([Int], [Double]) = quick ? ([16], [0.5, 5]) : ([64, 256], [4, 40])
        var rows: [TailRow] = []
        for workers in farms {
            let specs = minutes.map { scalingSpec(.rolling, seconds: 60 * $0, workers: workers) }
            var byLength = specs.map { _ in [FarmResult]() }
            for _ in 0..<tailRuns {
                for (index, spec) in specs.enumerated() {
                    let run = try farmRun(spec, workers: workers)
                    byLength[index].append(run)
                    BenchReport.progress(
                        String(
                            format: "tail: %d workers, %.1f min: %.3f s after the last commit, %d frames behind", workers,
                            spec.seconds / 60, run.toOutputSeconds - run.toLastCommitSeconds, run.encodeBacklogFrames ?? -1))
                }
            }
            for (spec, runs) in zip(specs, byLength) {
                rows.append(
                    TailRow(
                        workers: workers, videoSeconds: spec.seconds, tasks: runs[0].tasks,
                        waves: Double(spec.frameCount) / Double(workers * (spec.chunkFrames - spec.overlap)),
                        toLastCommitSeconds: runs.map(\.toLastCommitSeconds),
                        tailSeconds: runs.map { $0.toOutputSeconds - $0.toLastCommitSeconds },
                        backlogFrames: runs.map { $0.encodeBacklogFrames ?? 0 }))
            }
        }
        return rows
    }
}
