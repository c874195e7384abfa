import Foundation
import ReelClient
import ReelCore
import ReelStore
import Testing

/// `reel pause / resume / cancel` and the failure policy, through the CLI and real workers.
@Suite(.serialized) struct JobControlTests {
    @Test func pauseStopsDispatchAndResumeFinishesIdentically() throws {
        let directory = TemporaryDirectory()
        let spec = writeSpec(in: directory.path, name: "paused", seconds: 6, seed: 3)
        let cluster = try TestCluster(data: "\(directory.path)/data")
        defer { cluster.stop() }
        try cluster.startWorker("w")
        let job = try cluster.submit(spec, output: "paused.mp4")
        try cluster.waitFor(job: job) { $0.chunksDone >= 1 }
        let paused = try ReelBinary.run(["pause", "\(job)", "--coordinator", cluster.endpoint])
        #expect(paused.status == 0 && paused.out.contains("job \(job) is paused (paused by request)"), "\(paused.out)\(paused.err)")
        try waitUntil("the chunk in flight has committed") { try cluster.client().status().workers["w"] == 0 }
        let settled = try cluster.client().status(job: job).jobs[0].chunksDone
        Thread.sleep(forTimeInterval: 2)
        #expect(try cluster.client().status(job: job).jobs[0].chunksDone == settled, "nothing new is dispatched while paused")
        #expect(settled < 6)
        let resumed = try ReelBinary.run(["resume", "\(job)", "--coordinator", cluster.endpoint])
        #expect(resumed.status == 0 && resumed.out.contains("is running"), "\(resumed.err)")
        try cluster.waitFor(job: job) { $0.state == "done" }
        #expect(try Reference.verify(job: job, in: try cluster.store(), spec: spec, artifacts: "\(cluster.data)/artifacts") == [])
        let again = try ReelBinary.run(["pause", "\(job)", "--coordinator", cluster.endpoint])
        #expect(again.status != 0 && again.err.contains("cannot pause job \(job): it is done"), "\(again.err)")
    }

    @Test func cancelIgnoresLateResultsAndResumeStillCompletes() throws {
        let directory = TemporaryDirectory()
        let spec = writeSpec(in: directory.path, name: "cancelled", seconds: 4, seed: 4)
        let cluster = try TestCluster(data: "\(directory.path)/data")
        defer { cluster.stop() }
        try cluster.startWorker("w")
        let job = try cluster.submit(spec, output: "cancelled.mp4")
        try waitUntil("the worker holds a lease") { try cluster.client().status().workers["w"] == 1 }
        let cancelled = try ReelBinary.run(["cancel", "\(job)", "--coordinator", cluster.endpoint])
        #expect(cancelled.status == 0 && cancelled.out.contains("is cancelled"), "\(cancelled.err)")
        try waitUntil("the late result is ignored", timeout: 30) { cluster.log("coordinator.log").contains("of cancelled job \(job)") }
        let waited = try ReelBinary.run(["wait", "\(job)", "--coordinator", cluster.endpoint])
        #expect(waited.status != 0, "wait fails for a cancelled job")
        #expect(try ReelBinary.run(["resume", "\(job)", "--coordinator", cluster.endpoint]).status == 0)
        try cluster.waitFor(job: job) { $0.state == "done" }
        #expect(try Reference.verify(job: job, in: try cluster.store(), spec: spec, artifacts: "\(cluster.data)/artifacts") == [])
    }

    /// A chunk larger than the memory every live worker declares is not sent to die: the job
    /// waits, saying why, and runs as soon as a big enough worker joins. (A chunk that keeps
    /// failing fails its job: SchedulerPolicyTests; a real out-of-memory: DiffusersTests.)
    @Test func aChunkNoWorkerHasMemoryForWaitsSayingSoAndRunsWhenABigOneJoins() throws {
        let directory = TemporaryDirectory()
        let spec = writeSpec(in: directory.path, name: "waiting", seconds: 2, seed: 5)
        let cluster = try TestCluster(data: "\(directory.path)/data")
        defer { cluster.stop() }
        try cluster.startWorker("small", arguments: ["--max-memory-mb", "0"])
        try waitUntil("the small worker has joined") { try cluster.client().status().workers["small"] != nil }
        let job = try cluster.submit(spec, output: "waiting.mp4")
        let waiting = try cluster.waitFor(job: job, timeout: 30) { $0.reason != nil }
        #expect(waiting.state == "running")
        #expect(waiting.reason?.contains("needs more than the 0 MB the largest live worker for it declares") == true, "\(waiting.reason ?? "")")
        Thread.sleep(forTimeInterval: 1)
        #expect(try cluster.store().tasks(job: job).map(\.attempt).max() == 0, "nothing was sent to the small worker")
        try cluster.startWorker("big")
        try cluster.waitFor(job: job) { $0.state == "done" }
        #expect(try Reference.verify(job: job, in: try cluster.store(), spec: spec, artifacts: "\(cluster.data)/artifacts") == [])
        #expect(try cluster.store().tasks(job: job).allSatisfy { $0.worker == "big" })
    }

    /// Attack K: an encode that fails leaves the job `failed` with the encoder's reason, in
    /// the scheduler as in the store, so `resume` is taken at once (no restart) and encodes again.
    @Test func anEncodeThatFailsFailsTheJobAndResumeEncodesAgainAtOnce() throws {
        let directory = TemporaryDirectory()
        let spec = writeSpec(in: directory.path, name: "unencodable", seconds: 2, seed: 6)
        let cluster = try TestCluster(data: "\(directory.path)/data")
        defer { cluster.stop() }
        // A file where the output's folder should be: ffmpeg's folder cannot be made.
        let blocker = "\(cluster.outputRoot)/blocked"
        try Data("not a folder".utf8).write(to: URL(fileURLWithPath: blocker))
        try cluster.startWorker("w")
        let job = try cluster.submit(spec, output: "blocked/video.mp4")
        let failed = try cluster.waitFor(job: job) { $0.state == "failed" }
        #expect(failed.reason?.contains("encoding failed") == true, "\(failed.reason ?? "no reason")")
        try FileManager.default.removeItem(atPath: blocker)
        let resumed = try ReelBinary.run(["resume", "\(job)", "--coordinator", cluster.endpoint])
        #expect(resumed.status == 0, "resume is refused after a failed encode: \(resumed.err)")
        let done = try cluster.waitFor(job: job) { $0.state == "done" }
        #expect(FileManager.default.fileExists(atPath: "\(blocker)/video.mp4"))
        #expect(done.framesEncoded == done.framesTotal)
    }
}
