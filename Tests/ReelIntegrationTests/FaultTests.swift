import Foundation
import ReelClient
import ReelCore
import ReelStore
import ReelWire
import ReelZMQ
import Testing

/// Polls `condition` every 50 ms until it holds; fails after `timeout` seconds.
func waitUntil(_ what: String, timeout: Double = 120, _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while try !condition() {
        guard Date() < deadline else { throw ReelError(.network, "timed out waiting until \(what)") }
        Thread.sleep(forTimeInterval: 0.05)
    }
}

/// A measurement for Docs/reliability.md, printed so the test log carries it.
func measure(_ name: String, _ value: String) { print("MEASURE \(name): \(value)") }

/// Failures injected into real processes: SIGKILL, SIGSTOP, a full disk, hostile peers.
@Suite(.serialized) struct FaultTests {
    /// Chunks big enough (about a second each in a debug build) to be caught in the middle.
    func slowSpec(_ directory: String, name: String) -> String {
        writeSpec(in: directory, name: name, seconds: 5, width: 96, height: 64, seed: 17, chunkFrames: 20, overlap: 4)
    }

    @Test func aWorkerKilledMidChunkLosesNothingAndTheVideoIsIdentical() throws {
        let directory = TemporaryDirectory()
        let spec = slowSpec(directory.path, name: "killed")
        let cluster = try TestCluster(data: "\(directory.path)/data")
        defer { cluster.stop() }
        let victim = try cluster.startWorker("victim")
        let job = try cluster.submit(spec, output: "killed.mp4")
        try waitUntil("the victim holds a lease") { try cluster.client().status().workers["victim"] == 1 }
        try cluster.startWorker("survivor")
        let leased = try cluster.store().tasks(job: job).first { $0.state == .leased && $0.worker == "victim" }
        let killedAt = Date().timeIntervalSince1970
        kill(victim.processIdentifier, SIGKILL)
        try cluster.waitFor(job: job) { $0.state == "done" }
        let store = try cluster.store()
        #expect(try Reference.verify(job: job, in: store, spec: spec, artifacts: "\(cluster.data)/artifacts") == [])
        let task = try #require(leased, "the victim was caught holding a task")
        let events = try store.events(job: job).filter { $0.taskId == task.id }
        #expect(events.contains { $0.kind == "task-requeued" && $0.detail == "worker victim went silent" })
        let requeue = try #require(events.first { $0.kind == "task-requeued" })
        let redispatch = try #require(
            events.first { $0.kind == "task-leased" && $0.at > killedAt },
            "events: \(events.map { "\($0.at - killedAt) \($0.kind) \($0.detail)" })")
        #expect(redispatch.detail.hasSuffix("to survivor"))
        measure(
            "worker SIGKILL to requeue / to re-dispatch (worker timeout 3 s)",
            String(
                format: "%.2f s / %.2f s (the survivor first finishes the chunk it holds)", requeue.at - killedAt, redispatch.at - killedAt)
        )
    }

    @Test func aFrozenWorkersStaleResultIsRejected() throws {
        let directory = TemporaryDirectory()
        let spec = slowSpec(directory.path, name: "frozen")
        let cluster = try TestCluster(data: "\(directory.path)/data")
        defer { cluster.stop() }
        let frozen = try cluster.startWorker("frozen")
        let job = try cluster.submit(spec, output: "frozen.mp4")
        try waitUntil("the worker holds a lease") { try cluster.client().status().workers["frozen"] == 1 }
        kill(frozen.processIdentifier, SIGSTOP)
        try cluster.startWorker("thawed-later-not")
        // Past the 3 s worker timeout: the lease moves to the other worker.
        try waitUntil("the frozen worker is dropped") { try cluster.client().status().workers["frozen"] == nil }
        kill(frozen.processIdentifier, SIGCONT)
        try cluster.waitFor(job: job) { $0.state == "done" }
        try waitUntil("the frozen worker's stale result arrives", timeout: 30) {
            cluster.log("coordinator.log").contains("stale result for task") && cluster.log("coordinator.log").contains("from frozen")
        }
        #expect(try Reference.verify(job: job, in: try cluster.store(), spec: spec, artifacts: "\(cluster.data)/artifacts") == [])
        #expect(try cluster.client().status().droppedMessages >= 1)
    }

    /// The coordinator holds only 6 tasks of each job in memory (of about 60), so restarts
    /// also land in the middle of paging tasks in from the store.
    @Test func theCoordinatorSurvivesSIGKILLAtRandomPoints() throws {
        let kills = Int(ProcessInfo.processInfo.environment["REEL_COORDINATOR_KILLS"] ?? "") ?? 20
        let directory = TemporaryDirectory()
        let spec = writeSpec(in: directory.path, name: "crash", seconds: 8, seed: 23, chunkFrames: 8, overlap: 2)
        let cluster = try TestCluster(data: "\(directory.path)/data", coordinatorArguments: ["--resident-tasks", "6"])
        defer { cluster.stop() }
        try cluster.startWorker("w1")
        try cluster.startWorker("w2")
        var jobs = [try cluster.submit(spec, output: "crash-0.mp4")]
        var generator = SystemRandomNumberGenerator()
        for kill in 1...kills {
            Thread.sleep(forTimeInterval: Double.random(in: 0.1...0.6, using: &generator))
            try cluster.restartCoordinatorAfterSIGKILL()
            // The restarted coordinator must answer (its store passed the integrity check).
            var report: StatusReport?
            try waitUntil("the coordinator answers after kill \(kill)", timeout: 30) {
                report = try? cluster.client(timeout: 1).status()
                return report != nil
            }
            if report!.jobs.allSatisfy({ $0.state == "done" }) {
                jobs.append(try cluster.submit(spec, output: "crash-\(jobs.count).mp4"))
            }
        }
        for job in jobs { try cluster.waitFor(job: job) { $0.state == "done" } }
        let store = try cluster.store()
        var retried = 0, differing = 0, recomputed = 0
        for job in jobs {
            let problems = try Reference.verify(job: job, in: store, spec: spec, artifacts: "\(cluster.data)/artifacts")
            #expect(problems == [])
            differing += problems.filter { $0.contains("differ") }.count
            recomputed += try store.recomputedAfterCommit(job: job)
            retried += try store.tasks(job: job).filter { $0.attempt > 1 }.count
        }
        measure(
            "coordinator SIGKILLs survived",
            "\(kills) over \(jobs.count) job(s), \(differing) job output(s) differing from the reference, \(recomputed) committed tasks recomputed")
        measure("uncommitted chunks re-run after kills", "\(retried)")
    }

    @Test func aFullDiskPausesTheJobAndItResumesWhenSpaceReturns() throws {
        let directory = TemporaryDirectory()
        let data = "\(directory.path)/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let mount = try ReelBinaryShell.run("/bin/mount", ["-t", "tmpfs", "-o", "size=12m", "tmpfs", data])
        try #require(mount == 0, "mounting a 12 MB tmpfs needs root (CI runs as root)")
        defer { _ = try? ReelBinaryShell.run("/bin/umount", ["-l", data]) }
        let spec = writeSpec(in: directory.path, name: "full", seconds: 6, seed: 31, chunkFrames: 16, overlap: 4)
        let cluster = try TestCluster(data: data)
        defer { cluster.stop() }
        try cluster.startWorker("w")
        let job = try cluster.submit(spec, output: "full.mp4")
        try cluster.waitFor(job: job) { $0.chunksDone >= 2 }
        // Fill the disk.
        let filler = "\(data)/filler"
        _ = FileManager.default.createFile(atPath: filler, contents: nil)
        let handle = try #require(FileHandle(forWritingAtPath: filler))
        let block = Data(count: 64 << 10)
        while (try? handle.write(contentsOf: block)) != nil {}
        try? handle.close()
        let paused = try cluster.waitFor(job: job, timeout: 60) { $0.state == "paused" }
        #expect(paused.reason?.hasPrefix("disk full:") == true, "reason: \(paused.reason ?? "none")")
        let doneWhilePaused = paused.chunksDone
        Thread.sleep(forTimeInterval: 2)
        #expect(try cluster.client().status(job: job).jobs[0].chunksDone == doneWhilePaused, "nothing commits while paused")
        try FileManager.default.removeItem(atPath: filler)
        try cluster.waitFor(job: job) { $0.state == "done" }
        #expect(try Reference.verify(job: job, in: try cluster.store(), spec: spec, artifacts: "\(data)/artifacts") == [])
        measure("full disk", "paused with '\(paused.reason ?? "")' at \(doneWhilePaused) chunks; resumed and completed, output identical")
    }

    @Test func aProtocolFuzzerNeverCrashesTheCoordinatorAndARenderCompletes() throws {
        let count = Int(ProcessInfo.processInfo.environment["REEL_FUZZ_MESSAGES"] ?? "") ?? 20000
        let directory = TemporaryDirectory()
        let spec = writeSpec(in: directory.path, name: "fuzz", seconds: 4, seed: 41)
        let cluster = try TestCluster(data: "\(directory.path)/data")
        defer { cluster.stop() }
        try cluster.startWorker("honest")
        let job = try cluster.submit(spec, output: "fuzz.mp4")
        let context = ZMQContext()
        let fuzzer = try ZMQSocket(context, .dealer)
        try fuzzer.setOption(ZMQOption.routingID, bytes: Array("fuzzer".utf8))
        try fuzzer.connect(cluster.endpoint)
        var fuzz = MessageFuzzer()
        var sent = 0, undecodable = 0
        while sent < count {
            let frames = fuzz.next()
            // Valid client and worker commands are not attacks: keep the fuzzer from joining or steering jobs.
            if let decoded = try? WireCodec.decode(frames) {
                switch decoded {
                case .ready, .submit, .control: continue
                default: break
                }
            } else {
                undecodable += 1
            }
            if try fuzzer.send(frames, dontWait: false) { sent += 1 }
            if sent % 1000 == 0 { _ = try? fuzzer.receive() }
        }
        try cluster.waitFor(job: job) { $0.state == "done" }
        let report = try cluster.client().status()
        #expect(cluster.coordinator.isRunning)
        #expect(report.droppedMessages >= undecodable, "dropped \(report.droppedMessages), sent \(undecodable) undecodable")
        #expect(try Reference.verify(job: job, in: try cluster.store(), spec: spec, artifacts: "\(cluster.data)/artifacts") == [])
        measure(
            "protocol fuzz",
            "\(sent) messages (\(undecodable) undecodable), \(report.droppedMessages) dropped, coordinator up, render identical")
    }
}

/// Random and mutated protocol messages.
struct MessageFuzzer {
    var generator = SystemRandomNumberGenerator()
    let seeds: [[[UInt8]]] = {
        let work = ChunkWork(
            backend: .procedural, prompt: "p", seed: 1, steps: 2, shift: 3, grid: LatentGrid(frames: 8, channels: 3, height: 32, width: 32),
            region: Region(frames: 0..<8, rows: 0..<32, columns: 0..<32))
        let lease = LeaseRef(task: 1, attempt: 1)
        let latents = [UInt8](repeating: 7, count: 64)
        return [
            .heartbeat(), .task(TaskAssignment(lease: lease, leaseMilliseconds: 10, work: work)),
            .result(TaskResult(lease: lease, checksum: Checksum.payload(latents), sampleMilliseconds: 1, latents: latents)),
            .ack(lease), .failed(lease, reason: "x"), .disconnect(reason: "y"), .submitted(job: 1), .status(job: 1),
            .statusReply(json: [123, 125]), .error(code: "a", message: "b"),
            .ready(WorkerHello(name: "n", backends: ["procedural"], slots: 1, memoryMegabytes: 1, tags: [])),
        ].map(WireCodec.encode)
    }()

    mutating func next() -> [[UInt8]] {
        var frames = seeds[Int.random(in: 0..<seeds.count, using: &generator)]
        switch Int.random(in: 0..<6, using: &generator) {
        case 0:  // pure noise, 1-5 frames
            return (0..<Int.random(in: 1...5, using: &generator)).map { _ in randomBytes(Int.random(in: 0...64, using: &generator)) }
        case 1:  // flip bytes
            let frame = Int.random(in: 0..<frames.count, using: &generator)
            for _ in 0..<Int.random(in: 1...4, using: &generator) where !frames[frame].isEmpty {
                frames[frame][Int.random(in: 0..<frames[frame].count, using: &generator)] ^= UInt8.random(in: 1...255, using: &generator)
            }
        case 2:  // truncate
            let frame = Int.random(in: 0..<frames.count, using: &generator)
            frames[frame] = Array(frames[frame].prefix(Int.random(in: 0...frames[frame].count, using: &generator)))
        case 3:  // add or drop frames
            if Bool.random(using: &generator) { frames.append(randomBytes(8)) } else { frames.removeLast() }
        case 4:  // wrong version or unknown command
            frames[0] = Array("REEL".utf8) + [UInt8.random(in: 0...255, using: &generator), UInt8.random(in: 0...255, using: &generator)]
        default:  // replay as is (stale leases, unexpected commands)
            break
        }
        return frames.isEmpty ? [[]] : frames
    }

    mutating func randomBytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) } }
}

/// Runs a system command (mount, umount) and returns its exit status.
enum ReelBinaryShell {
    static func run(_ executable: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
