import Foundation
import ReelClient
import ReelCore
import ReelMetrics
import ReelPlan
import ReelStore
import ReelWire
import ReelZMQ
import Testing

/// A coordinator and workers started one by one, as on a real farm.
@Suite(.serialized) struct ClusterTests {
    @Test func aWorkerStartedMidJobJoinsAndTakesChunks() throws {
        let directory = TemporaryDirectory()
        let cluster = try TestCluster(data: "\(directory.path)/data")
        defer { cluster.stop() }
        try cluster.startWorker("early")
        let spec = try SpecLoaderForTests.load(writeSpec(in: directory.path, name: "join", seconds: 12, chunkFrames: 16, overlap: 4))
        var absolute = spec
        absolute.output = "\(directory.path)/join.mp4"
        let job = try cluster.client().submit(absolute)
        let before = try cluster.waitFor(job: job) { $0.chunksDone >= 2 }
        #expect(before.chunksDone < before.chunksTotal - 2, "the late worker arrives while most chunks remain")
        try cluster.startWorker("late")
        try cluster.waitFor(job: job) { $0.state == "done" }
        let tasks = try Store(path: "\(directory.path)/data/reel.sqlite").tasks(job: job)
        let byLate = tasks.filter { $0.worker == "late" }.count
        #expect(byLate >= 1, "the late worker sampled \(byLate) chunk(s)")
        #expect(cluster.log("coordinator.log").contains("worker late joined"))
        // The coordinator scores every finished job and records the report on its row. The scoring
        // thread runs under SCHED_IDLE, so on a machine the rest of the suite keeps busy it waits.
        try waitUntil("the job's consistency report is recorded", timeout: 240) { try cluster.store().job(job)?.consistencyJSON != nil }
        let report = try JSONDecoder().decode(ConsistencyReport.self, from: Data(try cluster.store().job(job)!.consistencyJSON!.utf8))
        // Keyframes fix the take everywhere; with 16-frame chunks the seam windows are too short to
        // join every path (see Docs/consistency.md), so only takes are asserted here.
        #expect(report.neighbourPairs == 11 && report.takeDisagreements == 0 && report.takesAgainstMajority == 0, "\(report)")
        // Its frame metrics, taken once the MP4 is done (decision 0044), are those of the frames the MP4 was encoded from.
        #expect(report.frames == (try Reference.frameMetrics(spec)), "\(report.frames)")
        #expect(try probe(absolute.output)["nb_read_frames"] == "144")
    }

    @Test func malformedMessagesAreDroppedAndCountedWhileARenderCompletes() throws {
        let directory = TemporaryDirectory()
        let cluster = try TestCluster(data: "\(directory.path)/data")
        defer { cluster.stop() }
        try cluster.startWorker("honest")
        var spec = try SpecLoaderForTests.load(writeSpec(in: directory.path, name: "fuzzed", seconds: 3))
        spec.output = "\(directory.path)/fuzzed.mp4"
        let job = try cluster.client().submit(spec)

        let context = ZMQContext()
        let attacker = try ZMQSocket(context, .dealer)
        try attacker.setOption(ZMQOption.routingID, bytes: Array("attacker".utf8))
        try attacker.connect(cluster.endpoint)
        let header = Array("REEL".utf8)
        let garbage: [[[UInt8]]] = [
            [[0xff, 0x00, 0x13]],  // one frame of noise
            [Array("HTTP/".utf8) + [1], []],  // not a Reel header
            [header + [9, 0x02], []],  // wrong version
            [header + [WireCodec.version, 0x77], []],  // unknown command
            [header + [WireCodec.version, 0x04], [1, 2, 3], []],  // truncated RESULT
            [header + [WireCodec.version, 0x01], [255, 255, 255, 255]],  // READY with an absurd length
            WireCodec.encode(.ack(LeaseRef(task: 1, attempt: 1))),  // valid but coordinator-bound only
        ]
        var sent = 0
        for round in 0..<50 {
            for message in garbage { if try attacker.send(message, dontWait: false) { sent += 1 } }
            var noise: [UInt8] = (0..<(round % 40)).map { _ in UInt8.random(in: 0...255) }
            noise.insert(contentsOf: header + [WireCodec.version, UInt8(round % 8)], at: 0)
            if try attacker.send([noise, noise], dontWait: false) { sent += 1 }
        }
        // A result of the right size and checksum for a lease the attacker does not hold must
        // not be committed: only the lease check stands in its way.
        try attacker.send(
            WireCodec.encode(.ready(WorkerHello(name: "attacker", backends: ["none"], slots: 1, memoryMegabytes: 1, tags: []))),
            dontWait: false)
        let plan = Planner.plan(spec)
        let forged = [UInt8](repeating: 0, count: Planner.work(spec, plan, unit: 0).resultCount * 2)
        try attacker.send(
            WireCodec.encode(
                .result(
                    TaskResult(
                        lease: LeaseRef(task: 1, attempt: 1), checksum: Checksum.payload(forged),
                        sampleMilliseconds: 1, latents: forged))), dontWait: false)
        let done = try cluster.waitFor(job: job) { $0.state == "done" }
        #expect(done.chunksDone == done.chunksTotal)
        let report = try cluster.client().status()
        #expect(report.droppedMessages >= sent, "dropped \(report.droppedMessages) of \(sent) bad messages")
        #expect(cluster.coordinator.isRunning)
        let tasks = try Store(path: "\(directory.path)/data/reel.sqlite").tasks(job: job)
        #expect(!tasks.contains { $0.worker == "attacker" })
        let log = cluster.log("coordinator.log")
        #expect(log.contains("result for task \(tasks[0].id!) attempt 1 from attacker"), "the forged result reached the lease check")
        #expect(try probe(spec.output)["nb_read_frames"] == "36")
    }

    @Test func badSpecsAreRefusedByTheCLIWithEveryProblemNamed() throws {
        let directory = TemporaryDirectory()
        let spec = writeSpec(in: directory.path, name: "bad", fps: 0, width: 100, overlap: 16)
        let result = try ReelBinary.run(["plan", spec])
        #expect(result.status != 0)
        #expect(result.err.contains("field 'fps': must be between 1 and 240 (got 0)"), "\(result.err)")
        #expect(result.err.contains("field 'width': must be a multiple of 16 for the procedural backend (got 100)"))
        #expect(result.err.contains("field 'overlap': must be less than chunk_frames = 16 (got 16)"))
        let render = try ReelBinary.run(["render", spec, "--data", "\(directory.path)/data"])
        #expect(render.status != 0 && render.err.contains("field 'fps'"))
        #expect(!FileManager.default.fileExists(atPath: "\(directory.path)/data/reel.sqlite"), "nothing started for a bad spec")
    }

    @Test func waitAndStatusFollowASubmittedJob() throws {
        let directory = TemporaryDirectory()
        let cluster = try TestCluster(data: "\(directory.path)/data")
        defer { cluster.stop() }
        try cluster.startWorker("w")
        let spec = writeSpec(in: directory.path, name: "cli", seconds: 2)
        let submitted = try ReelBinary.run(["submit", spec, "--coordinator", cluster.endpoint])
        #expect(submitted.status == 0, "\(submitted.err)")
        let job = submitted.out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(Int(job) != nil, "submit prints the job id, got '\(submitted.out)'")
        let waited = try ReelBinary.run(["wait", job, "--coordinator", cluster.endpoint])
        #expect(waited.status == 0, "\(waited.err)")
        #expect(waited.out.trimmingCharacters(in: .whitespacesAndNewlines) == "\(directory.path)/cli.mp4")
        let status = try ReelBinary.run(["status", job, "--json", "--coordinator", cluster.endpoint])
        let report = try JSONDecoder().decode(StatusReport.self, from: Data(status.out.utf8))
        #expect(report.jobs.first?.state == "done" && report.jobs.first?.chunksDone == report.jobs.first?.chunksTotal)
        let missing = try ReelBinary.run(["wait", "999", "--coordinator", cluster.endpoint])
        #expect(missing.status != 0 && missing.err.contains("no job 999"))
    }
}
