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
        let job = try cluster.submit(writeSpec(in: directory.path, name: "honest", seconds: 2, seed: 9), output: "honest.mp4")
        try cluster.waitFor(job: job) { $0.state == "done" }
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
