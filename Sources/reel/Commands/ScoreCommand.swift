import ArgumentParser
import Foundation
import ReelCoordinator
import ReelCore
import ReelMetrics
import ReelPlan
import ReelStitch
import ReelStore

extension Reel {
    struct Score: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Measure a video's consistency: seam jump ratio, flicker, drift; with --plan, also overlap disagreement and the procedural oracle's counts."
        )

        @Argument(help: "The video (MP4) to measure.")
        var video: String

        @Option(help: "A job id in --data: seams come from its plan, and its artifacts are scored too.")
        var plan: Int64?

        @Option(help: "Data directory holding the job.")
        var data: String = "reel-data"

        @Option(help: "Seam frame ranges instead of a plan, e.g. 40-48,80-88.")
        var seams: String?

        @Flag(help: "Print JSON.")
        var json = false

        func validate() throws {
            if plan != nil && seams != nil { throw ValidationError("give --plan or --seams, not both") }
        }

        func run() throws {
            ProcessSetup.start()
            let info = try VideoProbe.probe(video)
            var seamRanges: [Range<Int>] = []
            var job: (spec: JobSpec, plan: Plan, store: Store, id: Int64)?
            if let plan {
                let store = try Store(path: "\(data)/reel.sqlite")
                guard let record = try store.job(plan) else { throw ReelError(.notFound, "no job \(plan) in \(data)") }
                let spec = try record.spec()
                let planned = Planner.plan(spec)
                seamRanges = ConsistencyScorer.seamRanges(planned).map(planned.videoFrames)
                job = (spec, planned, store, plan)
            } else if let seams {
                seamRanges = try seams.split(separator: ",").map { part in
                    let bounds = part.split(separator: "-").compactMap { Int($0) }
                    guard bounds.count == 2, bounds[0] < bounds[1] else { throw ValidationError("--seams: '\(part)' is not FROM-TO") }
                    return bounds[0]..<bounds[1]
                }
            }
            var metrics =
                job.map { FrameMetrics(plan: $0.plan, fps: info.fps, width: info.width, height: info.height) }
                ?? FrameMetrics(seams: seamRanges, fps: info.fps, width: info.width, height: info.height)
            try VideoProbe.frames(video, width: info.width, height: info.height) { metrics.add($0) }
            let frames = metrics.report()
            var report: ConsistencyReport?
            var overlap: Double?
            if let job {
                let committed = JobArtifacts(
                    job: job.id, spec: job.spec, plan: job.plan, store: try ArtifactStore(root: "\(data)/artifacts"),
                    index: ArtifactIndex.of(plan: job.plan, tasks: try job.store.tasks(job: job.id)))
                if job.spec.backend == .procedural {
                    report = try ConsistencyScorer.score(spec: job.spec, plan: job.plan, frames: frames, read: committed.latents)
                } else {
                    overlap = try ConsistencyScorer.overlapDisagreement(plan: job.plan, read: committed.latents)
                }
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                let data: Data
                if let report {
                    data = try encoder.encode(report)
                } else if let overlap {
                    data = try encoder.encode(ModelScore(frames: frames, overlapDisagreement: overlap))
                } else {
                    data = try encoder.encode(frames)
                }
                print(String(decoding: data, as: UTF8.self))
                return
            }
            print(
                String(
                    format: "seam jump ratio  %.3f (worst %.3f, %d seams)", frames.seamJumpRatio, frames.worstSeamJumpRatio,
                    seamRanges.count))
            print(String(format: "flicker          %.5f (motion-compensated; mean frame difference %.5f)", frames.flicker, frames.motion))
            print(String(format: "drift            %.4f", frames.drift))
            if let overlap {
                print(String(format: "overlap disagreement before blending  %.4f (latents; no oracle for a real model)", overlap))
            }
            if let report {
                print(String(format: "overlap disagreement before blending  %.4f", report.overlapDisagreement))
                print(
                    "oracle, chunks as sampled: \(report.chunkSeamsDisagreeing) of \(report.neighbourPairs) seams disagree; \(report.chunkTakeDisagreements) take / \(report.chunkPathDisagreements) lane-path disagreements"
                )
                print(
                    "oracle, final video:       \(report.seamsDisagreeing) of \(report.neighbourPairs) seams disagree; \(report.takeDisagreements) take / \(report.pathDisagreements) lane-path disagreements; \(report.takesAgainstMajority) windows against the majority take"
                )
            }
        }
    }
}

/// What `reel score --json` gives for a job without an oracle (a real model's).
struct ModelScore: Codable {
    var frames: FrameMetrics.Report
    var overlapDisagreement: Double
}

/// ffprobe and ffmpeg, for reading a video back.
enum VideoProbe {
    static func probe(_ path: String) throws -> (width: Int, height: Int, fps: Int) {
        let out = try run([
            "ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height,r_frame_rate", "-of", "csv=p=0", path,
        ])
        let fields = String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",")
        guard fields.count == 3, let width = Int(fields[0]), let height = Int(fields[1]) else {
            throw ReelError(.usage, "\(path) is not a video ffprobe can read")
        }
        let rate = fields[2].split(separator: "/").compactMap { Double($0) }
        return (width, height, Int(((rate.first ?? 24) / (rate.count > 1 ? rate[1] : 1)).rounded()))
    }

    static func frames(_ path: String, width: Int, height: Int, each: ([UInt8]) -> Void) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ffmpeg", "-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let size = width * height * 3
        var buffer = Data()
        while true {
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            while buffer.count >= size {
                each([UInt8](buffer.prefix(size)))
                buffer.removeFirst(size)
            }
        }
        process.waitUntilExit()
    }

    static func run(_ arguments: [String]) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return data
    }
}
