import Foundation
import ReelCore
import ReelStore
import Testing

/// Workers that leave on purpose: SIGTERM (Kubernetes' and Slurm's way to stop a pod or a job
/// step) drains the task being sampled and hands back the rest at once; `--exit-when-idle`
/// releases a batch allocation when the farm has nothing left to do.
@Suite(.serialized) struct WorkerLeavingTests {
    @Test func aWorkerStoppedWithSIGTERMFinishesItsChunkAndHandsBackItsQueueAtOnce() throws {
        let directory = TemporaryDirectory()
        let spec = writeSpec(in: directory.path, name: "drained", seconds: 5, width: 96, height: 64, seed: 23, chunkFrames: 20, overlap: 4)
        let cluster = try TestCluster(data: "\(directory.path)/data")
        defer { cluster.stop() }
        let leaver = try cluster.startWorker("leaver", arguments: ["--log-level", "debug"])
        let job = try cluster.submit(spec, output: "drained.mp4")
        // One lease being sampled and one queued behind it (prefetch 1), as the store records
        // them, and the leaver's own word that it has begun one of them (a recorded lease may
        // still be on its way).
        var held: [Int64] = []
        try waitUntil("the leaver holds two leases and samples one", timeout: 120) {
            held = try cluster.store().tasks(job: job).filter { $0.state == .leased && $0.worker == "leaver" }.compactMap(\.id)
            let log = cluster.log("leaver.log")
            return held.count == 2 && held.contains { log.contains("sampling task \($0) attempt 1 ") }
        }
        let stoppedAt = Date().timeIntervalSince1970
        kill(leaver.processIdentifier, SIGTERM)
        try waitUntil("the leaver exits", timeout: 20) { !leaver.isRunning }
        let exitedAt = Date().timeIntervalSince1970
        #expect(leaver.terminationReason == .exit && leaver.terminationStatus == 0)
        #expect(cluster.log("leaver.log").contains("worker leaver leaving (stopped)"), "\(cluster.log("leaver.log").suffix(600))")

        try cluster.startWorker("survivor")
        try cluster.waitFor(job: job) { $0.state == "done" }
        let store = try cluster.store()
        #expect(try Reference.verify(job: job, in: store, spec: spec, artifacts: "\(cluster.data)/artifacts") == [])
        let events = try store.events(job: job)
        // The chunk being sampled when SIGTERM came was finished and committed by the leaver.
        let finished = held.filter { task in
            events.contains { $0.taskId == task && $0.kind == "task-committed" && $0.detail.contains("from leaver") && $0.at >= stoppedAt }
        }
        #expect(finished.count >= 1, "events: \(events.filter { held.contains($0.taskId ?? -1) }.map { "\($0.kind) \($0.detail)" })")
        // The queued one came back with the goodbye, well before a silent worker's 3 s timeout.
        let handedBack = try #require(
            events.first { held.contains($0.taskId ?? -1) && $0.kind == "task-requeued" && $0.detail == "worker leaver left" },
            "events: \(events.filter { held.contains($0.taskId ?? -1) }.map { "\($0.kind) \($0.detail)" })")
        #expect(handedBack.at - exitedAt < 1.5)
        #expect(!events.contains { $0.detail.contains("leaver went silent") })
        #expect(cluster.log("coordinator.log").contains("worker leaver left: worker leaver stopped"))
        measure(
            "worker SIGTERM to exit / to its queued task requeued",
            String(format: "%.2f s / %.2f s", exitedAt - stoppedAt, handedBack.at - stoppedAt))
    }

    @Test func aWorkerWithExitWhenIdleStaysWhileTheFarmHasWorkAndLeavesWhenItHasNone() throws {
        let directory = TemporaryDirectory()
        // Simulated-backend tasks that the batch worker (procedural only) cannot take.
        let spec = writeSpec(
            in: directory.path, name: "idle", seconds: 4, width: 64, height: 64, seed: 5, extra: "backend = \"simulated\"\nstep_ms = 120")
        let cluster = try TestCluster(data: "\(directory.path)/data")
        defer { cluster.stop() }
        let job = try cluster.submit(spec, output: "idle.mp4")
        let batch = try cluster.startWorker(
            "batch", arguments: ["--backend", "procedural", "--exit-when-idle", "2", "--log-level", "info"])
        try cluster.startWorker("simulator", arguments: ["--backend", "simulated"])
        // When it exits, watched every 20 ms from the start.
        var exitedAt: Double?
        let deadline = Date().addingTimeInterval(120)
        while try exitedAt == nil || cluster.client().status(job: job).jobs[0].state != "done" {
            if exitedAt == nil && !batch.isRunning { exitedAt = Date().timeIntervalSince1970 }
            guard Date() < deadline else { throw ReelError(.network, "timed out: job done and the idle worker gone") }
            Thread.sleep(forTimeInterval: 0.02)
        }
        let exit = try #require(exitedAt)
        #expect(batch.terminationStatus == 0)
        #expect(cluster.log("batch.log").contains("worker batch leaving (idle for 2 s)"))
        // It had no task all along, yet stayed while the farm had work: past its 2 s idle
        // window, until 2 s after the first heartbeat that said the farm had none (idle, it is
        // heartbeat every 4 s: decision 0036).
        let events = try cluster.store().events(job: job)
        let submitted = try #require(events.first { $0.kind == "job-submitted" }).at
        let lastCommit = try #require(events.last { $0.kind == "task-committed" }).at
        #expect(lastCommit - submitted > 3, "the job kept the farm busy longer than the idle window")
        #expect(exit >= lastCommit + 1, "left \(exit - lastCommit) s after the last commit")
        #expect(cluster.log("batch.log").contains("leaving (idle for 2 s): 0 tasks sampled"), "it never had a task")
        // It said goodbye: the coordinator forgets it at once, not after its 3 s worker timeout.
        try waitUntil("the coordinator forgets the worker", timeout: 1.5) { try cluster.client().status().workers["batch"] == nil }
        measure("last commit to idle worker gone (--exit-when-idle 2)", String(format: "%.2f s", exit - lastCommit))
    }

    @Test func exitWhenIdleAndDrainSecondsAreRangeChecked() throws {
        for (option, value) in [
            ("--exit-when-idle", "0"), ("--exit-when-idle", "nan"), ("--drain-seconds", "-1"), ("--drain-seconds", "1e9"),
        ] {
            let run = try ReelBinary.run(["worker", "--connect", "tcp://127.0.0.1:1", option, value])
            #expect(run.status != 0 && run.err.contains(option), "\(option) \(value): \(run.err)")
        }
    }
}
