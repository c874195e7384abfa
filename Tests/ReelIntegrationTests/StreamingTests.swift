import Foundation
import ReelClient
import ReelCore
import ReelStitch
import ReelStore
import Testing

/// The encode runs beside the render: frames reach ffmpeg while tasks are still pending, a
/// growing fragmented MP4 is playable meanwhile, and a coordinator killed mid-encode still
/// gives the same bytes.
@Suite(.serialized) struct StreamingTests {
    /// About a second a chunk in a debug build: the render outlasts the first frames' encode.
    func spec(_ directory: String, name: String) -> String {
        writeSpec(in: directory, name: name, seconds: 10, width: 96, height: 64, seed: 31, chunkFrames: 20, overlap: 4)
    }

    /// Frames of a video ffprobe can decode (0 when it cannot read it at all).
    func decodableFrames(_ path: String) throws -> Int { Int(try probe(path)["nb_read_frames"] ?? "") ?? 0 }

    /// The scheduling policy (field 41 of `/proc/PID/stat`) of each process named `name` whose parent is `parent`.
    static func policies(ofChildrenOf parent: Int32, named name: String) -> [Int] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> Int? in
            guard Int32(entry) != nil, let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")"),
                stat[stat.index(after: open)..<close] == name
            else { return nil }
            // Fields after the name, from field 3 (state): the parent is field 4, the policy field 41.
            let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            guard fields.count > 38, Int32(fields[1]) == parent else { return nil }
            return Int(fields[38])
        }
    }

    @Test func framesAreEncodedWhileTasksArePendingAndTheLiveFileIsPlayable() throws {
        let directory = TemporaryDirectory()
        let specPath = spec(directory.path, name: "streamed")
        let cluster = try TestCluster(data: "\(directory.path)/data")
        defer { cluster.stop() }
        try cluster.startWorker("w1")
        let job = try cluster.submit(specPath, output: "streamed.mp4")
        let live = "\(cluster.outputRoot)/streamed.live.mp4"
        // The frontier advances before the last task commits.
        let early = try cluster.waitFor(job: job) { $0.framesEncoded > 0 || $0.state == "done" }
        #expect(early.state == "running" && early.chunksDone < early.chunksTotal, "frames encoded only once every task was in: \(early)")
        // The encode yields to the coordinator's loop at once: its ffmpeg, started from the
        // encode's thread, inherited SCHED_IDLE (policy 5).
        let policies = Self.policies(ofChildrenOf: cluster.coordinator.processIdentifier, named: "ffmpeg")
        #expect(!policies.isEmpty && policies.allSatisfy { $0 == 5 }, "scheduling policies of the encode's ffmpeg: \(policies)")
        // While the job still runs, the progressive output plays.
        var playable = 0
        try waitUntil("the live file holds a decodable fragment", timeout: 60) {
            playable = try decodableFrames(live)
            let state = try cluster.client().status(job: job).jobs[0].state
            return playable > 0 || state == "done"
        }
        let during = try cluster.client().status(job: job).jobs[0]
        #expect(playable > 0 && during.state == "running", "the live file is not playable while the job runs (\(playable) frames, \(during.state))")
        measure(
            "frontier while rendering", "\(early.framesEncoded) frames encoded with \(early.chunksDone)/\(early.chunksTotal) tasks committed; live file played \(playable) frames")
        try cluster.waitFor(job: job) { $0.state == "done" }
        #expect(try decodableFrames("\(cluster.outputRoot)/streamed.mp4") == 120)
        #expect(!FileManager.default.fileExists(atPath: live), "the finished MP4 replaces the live file")
        // Moved aside when the MP4 was done, then deleted by the encode's thread once the job was reported.
        let discarded = "\(cluster.outputRoot)/\(FFmpegEncoder.discardedName(of: "streamed.mp4"))"
        try waitUntil("the progressive file is deleted", timeout: 10) { !FileManager.default.fileExists(atPath: discarded) }
        let checksums = try Reference.checksums(specPath)
        let record = try #require(try cluster.store().job(job))
        #expect(record.latentChecksum == checksums.latents && record.frameChecksum == checksums.frames)
    }

    @Test func aCoordinatorKilledMidEncodeGivesTheSameMP4() throws {
        let directory = TemporaryDirectory()
        let specPath = spec(directory.path, name: "killed-encode")
        // The reference: one uninterrupted render.
        let reference = try TestCluster(data: "\(directory.path)/reference/data")
        try reference.startWorker("w1")
        let first = try reference.submit(specPath, output: "whole.mp4")
        try reference.waitFor(job: first) { $0.state == "done" }
        reference.stop()
        let expected = try Data(contentsOf: URL(fileURLWithPath: "\(reference.outputRoot)/whole.mp4"))

        let cluster = try TestCluster(data: "\(directory.path)/killed/data")
        defer { cluster.stop() }
        try cluster.startWorker("w1")
        let job = try cluster.submit(specPath, output: "killed.mp4")
        let caught = try cluster.waitFor(job: job) { $0.framesEncoded > 0 || $0.state == "done" }
        #expect(caught.state == "running", "the coordinator was to be killed while it encoded, before the last task committed")
        try cluster.restartCoordinatorAfterSIGKILL()
        let after = try cluster.waitFor(job: job) { $0.state == "done" }
        let output = "\(cluster.outputRoot)/killed.mp4"
        #expect(try Data(contentsOf: URL(fileURLWithPath: output)) == expected, "the MP4 differs from the uninterrupted render's")
        // The progressive file is deleted just after the job is reported done (on the encode's thread).
        try waitUntil("no partial or progressive file is left", timeout: 10) {
            let left = try FileManager.default.contentsOfDirectory(atPath: cluster.outputRoot)
            return left.filter { $0.contains("partial") || $0.contains("live") } == []
        }
        #expect(cluster.log("coordinator.log").contains("encoding \(output) as its frames are committed"))
        measure(
            "coordinator SIGKILL mid-encode", "killed at \(caught.framesEncoded)/\(caught.framesTotal) frames encoded; the re-encoded MP4 (\(after.framesTotal) frames) is byte-identical")
    }
}
