import Foundation
import ReelClient
import ReelCore
import ReelStore
import ReelWire
import ReelZMQ
import Testing

/// The attacks of issue 12, each against a real coordinator: it must stay up, answer STATUS
/// quickly, and refuse or survive the attack with a clear reason.
@Suite(.serialized) struct HostileTests {
    /// Attack J: an option whose derived value would overflow is refused at start, naming it.
    @Test(arguments: [
        (["--lease", "5000000"], "--lease: must be between 1 and 86400 seconds (got 5000000)"),
        (["--heartbeat", "0"], "--heartbeat: must be between 0.05 and 60 seconds (got 0)"),
        (["--resident-tasks", "99999999999"], "--resident-tasks: must be between 1 and 1000000 tasks"),
        (["--max-failures", "0"], "--max-failures: must be between 1 and 1000 failures (got 0)"),
    ])
    func coordinatorOptionsOutOfRangeAreRefusedAtStart(arguments: [String], expected: String) throws {
        let directory = TemporaryDirectory()
        let result = try ReelBinary.run(["coordinator", "--data", "\(directory.path)/data", "--bind", "tcp://127.0.0.1:*"] + arguments, timeout: 20)
        #expect(result.status != 0)
        #expect(result.err.contains(expected), "\(result.err)")
    }

    @Test(arguments: [
        (["--max-memory-mb=-1"], "--max-memory-mb: must be 0-1073741824 (got -1)"),
        (["--heartbeat", "1e300"], "--heartbeat: must be 0.05-60 seconds"),
        (["--name", ""], "--name: must be 1-200 bytes"),
    ])
    func workerOptionsOutOfRangeAreRefusedAtStart(arguments: [String], expected: String) throws {
        let result = try ReelBinary.run(["worker", "--connect", "tcp://127.0.0.1:1"] + arguments, timeout: 20)
        #expect(result.status != 0)
        #expect(result.err.contains(expected), "\(result.err)")
    }

    /// Attacks A and E: specs whose fields trap or exhaust the farm, sent as SUBMIT (they skip
    /// the CLI's parser), are refused naming the field; the coordinator stays up and renders.
    @Test func hostileSpecsAreRefusedAtSubmitAndTheFarmGoesOn() throws {
        let directory = TemporaryDirectory()
        let cluster = try TestCluster(data: "\(directory.path)/data")
        defer { cluster.stop() }
        let base = try SpecLoaderForTests.load(writeSpec(in: directory.path, name: "honest", seconds: 2, seed: 9))
        var hostile: [(JobSpec, String)] = []
        var spec = base
        spec.seconds = 1e300
        hostile.append((spec, "field 'seconds': must be at most 14400"))
        spec = base
        spec.shots = [.init(prompt: "a", start: 0), .init(prompt: "b", start: 1e300)]
        hostile.append((spec, "field 'shots[1].start': must be before the end of the video"))
        spec = base
        (spec.width, spec.height, spec.chunkFrames, spec.overlap) = (4096, 4096, 14400, 0)
        hostile.append((spec, "field 'chunk_frames': a chunk of"))
        spec = base
        (spec.seconds, spec.fps) = (14400, 240)
        hostile.append((spec, "field 'seconds': the job would have about"))
        for (spec, expected) in hostile {
            var spec = spec
            spec.output = "\(cluster.outputRoot)/hostile.mp4"
            let refusal = #expect(throws: ReelError.self) { try cluster.client().submit(spec) }
            #expect(refusal?.code == .invalidSpec && refusal?.message.contains(expected) == true, "\(String(describing: refusal))")
            try expectAnswersQuickly(cluster)
        }
        try cluster.startWorker("w")
        let honest = writeSpec(in: directory.path, name: "honest", seconds: 2, seed: 9)
        let job = try cluster.submit(honest, output: "honest.mp4")
        try cluster.waitFor(job: job) { $0.state == "done" }
        #expect(try Reference.verify(job: job, in: try cluster.store(), spec: honest, artifacts: "\(cluster.data)/artifacts") == [])
    }
}

extension HostileTests {
    /// Attack H: a symbolic link made after SUBMIT, where the output's folder or the PNG
    /// folder should be, does not carry the encoder outside the output root. The encode opens
    /// its folders at SUBMIT (it streams beside the render), so the link replaces a folder it
    /// already holds, and a restarted coordinator's encode meets the link: it fails naming it,
    /// and nothing is written through it.
    @Test(arguments: ["output", "png_dir"])
    func aLinkMadeAfterSubmitDoesNotRedirectTheOutput(field: String) throws {
        let directory = TemporaryDirectory()
        let outside = TemporaryDirectory()
        let specPath = writeSpec(in: directory.path, name: "redirected", seconds: 2, seed: 25)
        let cluster = try TestCluster(data: "\(directory.path)/data")
        defer { cluster.stop() }
        var spec = try SpecLoaderForTests.load(specPath)
        spec.output = "\(cluster.outputRoot)/\(field == "output" ? "later" : "fine")/video.mp4"
        if field == "png_dir" { spec.pngDirectory = "\(cluster.outputRoot)/later" }
        let job = try cluster.client().submit(spec)
        var isFolder: ObjCBool = false
        try waitUntil("the encode made its folder", timeout: 30) {
            FileManager.default.fileExists(atPath: "\(cluster.outputRoot)/later", isDirectory: &isFolder) && isFolder.boolValue
        }
        try FileManager.default.moveItem(atPath: "\(cluster.outputRoot)/later", toPath: "\(cluster.outputRoot)/later-moved")
        try FileManager.default.createSymbolicLink(atPath: "\(cluster.outputRoot)/later", withDestinationPath: outside.path)
        try cluster.restartCoordinatorAfterSIGKILL()
        try cluster.startWorker("w")
        let failed = try cluster.waitFor(job: job) { $0.state == "failed" || $0.state == "done" }
        #expect(failed.state == "failed")
        #expect(failed.reason?.contains("its component 'later' is a symbolic link") == true, "\(failed.reason ?? "no reason")")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside.path).isEmpty, "nothing was written outside the root")
        try expectAnswersQuickly(cluster)
        // An honest job beside it renders identically.
        let honest = writeSpec(in: directory.path, name: "beside", seconds: 2, seed: 27)
        let clean = try cluster.submit(honest, output: "beside.mp4")
        try cluster.waitFor(job: clean) { $0.state == "done" }
        #expect(try Reference.verify(job: clean, in: try cluster.store(), spec: honest, artifacts: "\(cluster.data)/artifacts") == [])
    }

    /// Attack H: `reel render` no longer widens the output root to a png_dir outside the output's folder.
    @Test func renderRefusesAPngDirOutsideTheOutputsFolder() throws {
        let directory = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: "\(directory.path)/videos", withIntermediateDirectories: true)
        let spec = writeSpec(
            in: directory.path, name: "wide", seconds: 1, extra: "png_dir = \"frames\"\noutput = \"videos/wide.mp4\"")
        let text = try String(contentsOfFile: spec, encoding: .utf8).replacingOccurrences(of: "output = \"wide.mp4\"\n", with: "")
        try text.write(toFile: spec, atomically: true, encoding: .utf8)
        let result = try ReelBinary.run(["render", spec, "--workers", "1", "--data", "\(directory.path)/data"], timeout: 60)
        #expect(result.status != 0)
        #expect(result.err.contains("field 'png_dir': must be inside the coordinator's output root"), "\(result.err)")
        #expect(!FileManager.default.fileExists(atPath: "\(directory.path)/frames"))
    }
}

extension HostileTests {
    /// Attack C: a worker that returns well-formed wrong latents (zeros, with a checksum that
    /// matches them) is outvoted, quarantined, and refused; the video is identical to a clean
    /// one. At a fraction below 1 its unverified results were committed before it was caught:
    /// they, and what was computed from them, run again.
    @Test(arguments: ["1", "0.5"])
    func aWorkerReturningWrongLatentsIsOutvotedAndQuarantined(fraction: String) throws {
        let directory = TemporaryDirectory()
        let spec = writeSpec(in: directory.path, name: "verified", seconds: 2, seed: 26)
        let cluster = try TestCluster(data: "\(directory.path)/data", coordinatorArguments: ["--verify-fraction", fraction])
        defer { cluster.stop() }
        let context = ZMQContext()
        let liar = try RawPeer(context, endpoint: cluster.endpoint)
        var hello = Self.hello
        hello.name = "liar"
        try liar.send(.ready(hello))
        try waitUntil("the liar joined") { try cluster.client().status().workers["liar"] != nil }
        let job = try cluster.submit(spec, output: "verified.mp4")
        var lies = 0, refused = false, honest = false, lastLie = Date()
        let deadline = Date().addingTimeInterval(120)
        while try cluster.client().status(job: job).jobs[0].state != "done" && Date() < deadline {
            // The liar alone takes the first tasks (some verified, some not at 0.5); then honest workers join.
            if !honest && (lies >= 6 || fraction == "1" || (lies > 0 && Date().timeIntervalSince(lastLie) > 2)) {
                try cluster.startWorker("h1")
                try cluster.startWorker("h2")
                honest = true
            }
            for message in try liar.received(within: 0.2) {
                switch message {
                case .task(let assignment):
                    try liar.answerWithZeros(assignment)
                    lies += 1
                    lastLie = Date()
                case .disconnect(let reason) where reason.hasPrefix("quarantined"):
                    refused = true
                    try liar.send(.ready(hello))
                default: break
                }
            }
            try liar.send(.heartbeat())
        }
        #expect(try cluster.client().status(job: job).jobs[0].state == "done")
        #expect(lies >= 1, "the liar was given a task")
        #expect(refused, "the liar was told it is quarantined")
        #expect(cluster.log("coordinator.log").contains("quarantined liar"))
        #expect(try cluster.client().status().workers["liar"] == nil)
        // Tasks the liar committed are leased again after their commit: that is the recomputation.
        let problems = try Reference.verify(job: job, in: try cluster.store(), spec: spec, artifacts: "\(cluster.data)/artifacts")
        #expect(problems.filter { !$0.contains("were leased again") && !$0.contains("committed 2 times") } == [], "\(problems)")
        #expect(!(try cluster.store().tasks(job: job).contains { $0.worker == "liar" }), "nothing of the liar's stays committed")
        if fraction != "1" {
            #expect(cluster.log("coordinator.log").contains("committed task(s) of liar, or computed from them, run again"))
        }
        try expectAnswersQuickly(cluster)
    }
}

extension HostileTests {
    /// Attack G: 1,000 connected idle workers that cannot run a large job's tasks cost
    /// dispatch nothing: STATUS answers within 50 ms and the job goes on progressing.
    @Test func aThousandIdleIncapableWorkersCostDispatchNothing() throws {
        let directory = TemporaryDirectory()
        let spec = writeSpec(
            in: directory.path, name: "crowd", seconds: 1200, width: 32, height: 32, chunkFrames: 4, overlap: 1,
            extra: "consistency = \"independent\"")
        let cluster = try TestCluster(data: "\(directory.path)/data", coordinatorArguments: ["--heartbeat", "2", "--worker-timeout", "30"])
        defer { cluster.stop() }
        // libzmq allows 1023 sockets a context: four contexts of 250.
        let contexts = (0..<4).map { _ in ZMQContext() }
        var idle: [RawPeer] = []
        for index in 0..<1000 {
            let peer = try RawPeer(contexts[index % 4], endpoint: cluster.endpoint)
            var hello = Self.hello
            hello.name = "idle-\(index)"
            hello.backends = ["simulated"]  // the job is procedural
            try peer.send(.ready(hello))
            idle.append(peer)
        }
        func keepIdleAlive() throws {
            for peer in idle {
                try peer.send(.heartbeat())
                while try peer.socket.receive() != nil {}
            }
        }
        try keepIdleAlive()
        try waitUntil("the idle workers joined") { try cluster.client().status().workers.count >= 1000 }
        let job = try cluster.submit(spec, output: "crowd.mp4")
        let total = try cluster.client().status(job: job).jobs[0].chunksTotal
        #expect(total > 4000, "a large job: \(total) tasks")
        try cluster.startWorker("honest")
        try cluster.waitFor(job: job, timeout: 60) { $0.chunksDone >= 1 }
        var times: [Double] = []
        let before = try cluster.client().status(job: job).jobs[0].chunksDone
        for _ in 0..<10 {
            // Heartbeats as 1000 workers send them (this process sends them in a burst, then
            // lets the coordinator take them before it asks).
            try keepIdleAlive()
            Thread.sleep(forTimeInterval: 0.3)
            let started = Date()
            _ = try cluster.client().status()
            times.append(Date().timeIntervalSince(started))
        }
        let after = try cluster.client().status(job: job).jobs[0].chunksDone
        let median = times.sorted()[times.count / 2]
        #expect(median < 0.05, "STATUS took \(Int(median * 1000)) ms (median of 10) with 1000 idle workers")
        #expect(after > before, "the job progressed: \(before) → \(after) of \(total)")
        #expect(try cluster.client().status().workers.count == 1001)
        measure("STATUS with 1000 idle incapable workers beside a \(total)-task job", "\(String(format: "%.1f", median * 1000)) ms median; \(after - before) tasks done meanwhile")
    }
}

extension HostileTests {
    /// Attack G: a job of about 200,000 tasks goes into the store in batches: STATUS keeps
    /// answering within 100 ms meanwhile, and a SIGKILL in the middle of it loses nothing
    /// (the restarted coordinator inserts the rest, ids consecutive).
    @Test func aHugeSubmissionGoesInInBatchesWhileTheCoordinatorServes() throws {
        let directory = TemporaryDirectory()
        let spec = writeSpec(
            in: directory.path, name: "huge", seconds: 2500, fps: 240, width: 32, height: 32, chunkFrames: 4, overlap: 1,
            extra: "consistency = \"independent\"")
        let cluster = try TestCluster(data: "\(directory.path)/data")
        defer { cluster.stop() }
        let started = Date()
        let job = try cluster.submit(spec, output: "huge.mp4")
        let submitSeconds = Date().timeIntervalSince(started)
        let total = try cluster.client().status(job: job).jobs[0].chunksTotal
        #expect(total > 190_000, "\(total) tasks")
        var answers: [Double] = []
        // One connection for the whole loop: opening a store sets the journal mode, runs the
        // migrator and checks the whole file's integrity, beside the coordinator's inserts.
        let store = try cluster.store()
        while try store.taskSpan(job: job)!.count < total / 2 {
            let asked = Date()
            _ = try cluster.client().status()
            answers.append(Date().timeIntervalSince(asked))
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(answers.count >= 3, "STATUS was asked while the rows went in")
        // One answer may meet a scheduling hiccup of this machine (the suite runs beside it); a
        // loop held by the inserts would be slow in every answer.
        let sorted = answers.sorted()
        #expect(
            sorted.dropLast().allSatisfy { $0 < 0.1 } && (sorted.last ?? 0) < 1,
            "STATUS answers while a \(total)-task job was inserted, slowest last: \(sorted.suffix(3).map { Int($0 * 1000) }) ms")
        try cluster.restartCoordinatorAfterSIGKILL()
        try waitUntil("every task row is in", timeout: 120) { try cluster.store().taskSpan(job: job)!.count == total }
        let span = try #require(try cluster.store().taskSpan(job: job))
        #expect(span.last - span.first + 1 == Int64(total), "ids consecutive")
        try cluster.startWorker("w")
        try cluster.waitFor(job: job, timeout: 60) { $0.chunksDone >= 3 }
        measure("huge submission", "\(total) tasks: SUBMIT answered in \(Int(submitSeconds * 1000)) ms; STATUS \(Int(sorted[sorted.count / 2] * 1000)) ms median, slowest \(sorted.suffix(3).map { Int($0 * 1000) }) ms over \(answers.count) asks while rows went in; resumed after SIGKILL")
    }
}

/// A raw peer speaking the protocol, as an attacker's script would.
final class RawPeer {
    let socket: ZMQSocket

    init(_ context: ZMQContext, endpoint: String, routing: String? = nil) throws {
        socket = try ZMQSocket(context, .dealer)
        if let routing { try socket.setOption(ZMQOption.routingID, bytes: Array(routing.utf8)) }
        try socket.setOption(ZMQOption.linger, 0)
        try socket.connect(endpoint)
    }

    func send(_ message: WireMessage) throws { _ = try socket.send(WireCodec.encode(message), dontWait: false) }

    /// Answers `assignment` with a result of the right size, all zeros, and a checksum that
    /// matches them: well-formed, so only verification can tell it from a real one.
    func answerWithZeros(_ assignment: TaskAssignment) throws {
        let zeros = [UInt8](repeating: 0, count: assignment.work.resultCount * 2)
        try send(.result(TaskResult(lease: assignment.lease, checksum: Checksum.payload(zeros), sampleMilliseconds: 1, latents: zeros)))
    }

    /// Messages received within `seconds`.
    func received(within seconds: Double) throws -> [WireMessage] {
        var out: [WireMessage] = []
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            guard try socket.waitReadable(timeoutMilliseconds: 50) else { continue }
            while let message = try socket.receive() { if let decoded = try? WireCodec.decode(message.frames) { out.append(decoded) } }
        }
        return out
    }
}

extension HostileTests {
    static let hello = WorkerHello(name: "squatter", backends: ["procedural", "simulated"], slots: 1, memoryMegabytes: 1 << 20, tags: [])

    /// Attack D: a worker that takes a task and then only heartbeats loses it once it makes no
    /// progress; four FAILED reports of 1 MiB each are stored cut to 4 KiB; the honest worker
    /// finishes the render, identical to a clean one.
    @Test func aWorkerThatOnlyHeartbeatsLosesItsLeaseAndHugeReasonsAreCut() throws {
        let directory = TemporaryDirectory()
        let spec = writeSpec(in: directory.path, name: "stalled", seconds: 2, seed: 21)
        let cluster = try TestCluster(data: "\(directory.path)/data", coordinatorArguments: ["--stall-timeout", "2", "--lease", "600"])
        defer { cluster.stop() }
        let context = ZMQContext()
        let squatter = try RawPeer(context, endpoint: cluster.endpoint)
        try squatter.send(.ready(Self.hello))
        let job = try cluster.submit(spec, output: "stalled.mp4")
        var taken: [LeaseRef] = []
        let deadline = Date().addingTimeInterval(10)
        while taken.isEmpty && Date() < deadline {
            try squatter.send(.heartbeat())
            taken += try squatter.received(within: 0.3).compactMap { if case .task(let a) = $0 { a.lease } else { nil } }
        }
        let lease = try #require(taken.first, "the squatter was given a task")
        let reason = String(repeating: "r", count: 1 << 20)
        try squatter.send(.failed(LeaseRef(task: lease.task, attempt: lease.attempt + 7), reason: reason))
        try cluster.startWorker("honest")
        let started = Date()
        // The squatter heartbeats all along (it is alive), but never reports a step.
        while try cluster.client().status(job: job).jobs[0].state != "done" && Date().timeIntervalSince(started) < 120 {
            try squatter.send(.heartbeat(progress: [TaskProgress(lease: lease, step: 0)]))
            _ = try squatter.received(within: 0.3)
        }
        #expect(try cluster.client().status(job: job).jobs[0].state == "done")
        #expect(cluster.log("coordinator.log").contains("worker squatter made no progress"))
        try expectAnswersQuickly(cluster)
        #expect(try Reference.verify(job: job, in: try cluster.store(), spec: spec, artifacts: "\(cluster.data)/artifacts") == [])
        let longest = try cluster.store().events(job: job).map(\.detail.utf8.count).max() ?? 0
        #expect(longest < 8192, "a stored reason is \(longest) bytes")
    }

    /// Attack F: identities are bounded (the longest-silent goes first), READY is bounded in
    /// size, and a RESULT from a peer that never sent READY is dropped before its bytes are read.
    @Test func identitiesAreBoundedAndResultsWithoutALeaseAreDropped() throws {
        let directory = TemporaryDirectory()
        let spec = writeSpec(in: directory.path, name: "crowded", seconds: 2, seed: 22)
        let cluster = try TestCluster(data: "\(directory.path)/data", coordinatorArguments: ["--max-workers", "8"])
        defer { cluster.stop() }
        try cluster.startWorker("honest")
        try waitUntil("the honest worker joined") { try cluster.client().status().workers["honest"] != nil }
        let context = ZMQContext()
        var crowd: [RawPeer] = []
        for index in 0..<40 {
            let peer = try RawPeer(context, endpoint: cluster.endpoint)
            var hello = Self.hello
            hello.name = "crowd-\(index)"
            hello.backends = ["none"]
            hello.models = (0..<3).map { _ in String(repeating: "m", count: 4000) }
            try peer.send(.ready(hello))
            crowd.append(peer)
        }
        // Over the READY size limit: dropped as malformed.
        var oversized = Self.hello
        oversized.name = "oversized"
        oversized.models = (0..<5).map { _ in String(repeating: "m", count: 4000) }
        try crowd[0].send(.ready(oversized))
        let latents = [UInt8](repeating: 1, count: 8 << 20)
        let stranger = try RawPeer(context, endpoint: cluster.endpoint)
        try stranger.send(.result(TaskResult(lease: LeaseRef(task: 1, attempt: 1), checksum: 0, sampleMilliseconds: 1, latents: latents)))
        try expectAnswersQuickly(cluster)
        let workers = try cluster.client().status().workers
        #expect(workers.count <= 8, "\(workers.count) workers kept")
        #expect(workers["oversized"] == nil)
        #expect(workers["honest"] != nil, "a live worker is never evicted")
        try waitUntil("the stranger's RESULT is dropped") { cluster.log("coordinator.log").contains("from a peer that sent no READY") }
        #expect(cluster.log("coordinator.log").contains("READY is 20"), "the oversized READY is refused by its size")
        let job = try cluster.submit(spec, output: "crowded.mp4")
        try cluster.waitFor(job: job) { $0.state == "done" }
        #expect(try Reference.verify(job: job, in: try cluster.store(), spec: spec, artifacts: "\(cluster.data)/artifacts") == [])
    }

    /// Attack I: a peer that connects first with a worker's old, predictable routing id (its
    /// name) no longer keeps it out: workers' routing ids are random.
    @Test func aSquattedRoutingIdDoesNotKeepAWorkerOut() throws {
        let directory = TemporaryDirectory()
        let spec = writeSpec(in: directory.path, name: "squatted", seconds: 2, seed: 23)
        let cluster = try TestCluster(data: "\(directory.path)/data")
        defer { cluster.stop() }
        let context = ZMQContext()
        let squatter = try RawPeer(context, endpoint: cluster.endpoint, routing: "w")
        try squatter.send(.status(job: nil))
        _ = try squatter.received(within: 0.5)
        try cluster.startWorker("w")
        let job = try cluster.submit(spec, output: "squatted.mp4")
        try cluster.waitFor(job: job, timeout: 60) { $0.state == "done" }
        #expect(try cluster.store().tasks(job: job).allSatisfy { $0.worker == "w" })
        #expect(try Reference.verify(job: job, in: try cluster.store(), spec: spec, artifacts: "\(cluster.data)/artifacts") == [])
        try expectAnswersQuickly(cluster)
    }

    /// Well-formed messages with hostile values (extreme numbers, long strings, leases that
    /// are not held, steps past the end) from many identities: dropped or ignored, and the
    /// honest render beside them finishes identical to a clean one.
    @Test func wellFormedMessagesWithHostileValuesChangeNothing() throws {
        let directory = TemporaryDirectory()
        let spec = writeSpec(in: directory.path, name: "values", seconds: 3, seed: 24)
        let cluster = try TestCluster(data: "\(directory.path)/data", coordinatorArguments: ["--max-workers", "16"])
        defer { cluster.stop() }
        try cluster.startWorker("honest")
        try waitUntil("the honest worker joined") { try cluster.client().status().workers["honest"] != nil }
        let job = try cluster.submit(spec, output: "values.mp4")
        let context = ZMQContext()
        let extremes: [Int64] = [.min, -1, 0, 1, 2, .max]
        let attempts: [UInt32] = [0, 1, 2, .max]
        var sent = 0
        for round in 0..<30 {
            let peer = try RawPeer(context, endpoint: cluster.endpoint)
            var hello = Self.hello
            hello.name = "hostile-\(round)"
            hello.backends = ["none"]  // they hold no lease: every message below targets leases they do not hold
            hello.slots = [1, 64][round % 2]
            hello.memoryMegabytes = [0, .max][round % 2]
            hello.holding = extremes.map { LeaseRef(task: $0, attempt: .max) }
            try peer.send(.ready(hello))
            for task in extremes {
                for attempt in attempts {
                    let lease = LeaseRef(task: task, attempt: attempt)
                    let bytes = [UInt8](repeating: 0, count: [0, 2, 4096][Int(attempt % 3)])
                    for message: WireMessage in [
                        .heartbeat(progress: [TaskProgress(lease: lease, step: .max), TaskProgress(lease: lease, step: 1)]),
                        .failed(lease, reason: String(repeating: "x", count: 64 << 10), outOfMemory: true),
                        .result(TaskResult(lease: lease, checksum: Checksum.payload(bytes), sampleMilliseconds: .max, latents: bytes)),
                        .status(job: task), .ack(lease), .revoke(lease),
                    ] + (task == 1 || task == 2 ? [] : [.control(job: task, action: .cancel)]) {
                        try peer.send(message)
                        sent += 1
                    }
                }
            }
        }
        try expectAnswersQuickly(cluster)
        #expect(cluster.coordinator.isRunning)
        try cluster.waitFor(job: job) { $0.state == "done" }
        #expect(try Reference.verify(job: job, in: try cluster.store(), spec: spec, artifacts: "\(cluster.data)/artifacts") == [])
        #expect(try cluster.client().status().workers.count <= 16)
        #expect(sent > 4000)
    }
}

/// Checks that the coordinator answers STATUS within 100 ms (best of three, so one scheduling
/// hiccup of a loaded test machine does not fail it).
func expectAnswersQuickly(_ cluster: TestCluster, sourceLocation: SourceLocation = #_sourceLocation) throws {
    var best = Double.infinity
    for _ in 0..<3 {
        let started = Date()
        _ = try cluster.client().status()
        best = min(best, Date().timeIntervalSince(started))
    }
    #expect(best < 0.1, "STATUS took \(Int(best * 1000)) ms", sourceLocation: sourceLocation)
}
