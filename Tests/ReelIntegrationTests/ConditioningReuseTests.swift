import Foundation
import ReelCore
import ReelWire
import ReelZMQ
import Testing

/// Decision 0038: a task's conditioning is built once. What a worker's lease took is kept
/// until the task commits, so a retry after a failure and a backup lease of a straggler go
/// out at once with the same conditioning, without a build of their own. Two scripted
/// workers speak the protocol to a real coordinator; the builds are counted by its
/// `reel_conditioning_build_seconds` histogram.
@Suite(.serialized) struct ConditioningReuseTests {
    @Test func aRetryAndABackupCarryWhatTheFirstLeaseTookWithoutABuild() throws {
        let directory = TemporaryDirectory()
        let spec = writeSpec(in: directory.path, name: "reuse", seconds: 4, seed: 31, extra: "consistency = \"rolling\"")
        // One lease per worker (no prefetch), so the task a worker holds is its newest.
        let cluster = try TestCluster(data: "\(directory.path)/data", coordinatorArguments: ["--metrics", "127.0.0.1:0", "--prefetch", "0"])
        defer { cluster.stop() }
        let address = try MetricsEndpointTests.address(in: cluster)
        let context = ZMQContext()
        // `flaky` fails the first conditioned task it is given and holds the second (reporting
        // progress, so it keeps the lease); `steady` runs everything at once.
        let flaky = try ScriptedWorker(context, endpoint: cluster.endpoint, name: "flaky")
        let steady = try ScriptedWorker(context, endpoint: cluster.endpoint, name: "steady")
        let job = try cluster.submit(spec, output: "reuse.mp4")
        var failed: Int64?, held: LeaseRef?, heldTask: Int64?
        let client = try cluster.client()
        let deadline = Date().addingTimeInterval(90)
        while try client.status(job: job).jobs[0].state != "done" {
            #expect(Date() < deadline, "the job finished within 90 s")
            guard Date() < deadline else { break }
            for assignment in try flaky.take() {
                if !assignment.conditioning.isEmpty && failed == nil {
                    failed = assignment.lease.task
                    try flaky.send(.failed(assignment.lease, reason: "scripted failure"))
                } else if !assignment.conditioning.isEmpty && heldTask == nil && assignment.lease.task != failed {
                    held = assignment.lease
                    heldTask = assignment.lease.task
                } else {
                    try flaky.answer(assignment)
                }
            }
            if let lease = held, flaky.revoked.contains(lease) { held = nil }
            for assignment in try steady.take() { try steady.answer(assignment) }
            try flaky.heartbeat(holding: held)
            try steady.heartbeat(holding: nil)
        }
        let retried = try #require(failed, "the flaky worker was given a conditioned task")
        let backedUp = try #require(heldTask, "the flaky worker was given a second conditioned task")
        // The retry and the backup went to the steady worker, with what the first lease took.
        for task in [retried, backedUp] {
            let first = try #require(flaky.leases[task]?.first), again = try #require(steady.leases[task]?.first, "task \(task) ran again")
            #expect(again.conditioning == first.conditioning, "task \(task)'s second lease carries the first one's conditioning")
            #expect(again.lease.attempt > first.lease.attempt)
        }
        let sent = Array(flaky.leases.values.joined()) + Array(steady.leases.values.joined())
        let conditioned = Set(sent.filter { !$0.conditioning.isEmpty }.map(\.lease.task))
        let exposition = try MetricsEndpointTests.get("http://\(address)/metrics").body
        let builds = try #require(MetricsEndpointTests.sample(exposition, "reel_conditioning_build_seconds_count"))
        #expect(Int(builds) == conditioned.count, "one build per conditioned task (\(conditioned.count)), none for the retry or the backup")
        measure("conditioning reuse", "\(conditioned.count) conditioned tasks, \(Int(builds)) builds; task \(retried) retried, task \(backedUp) backed up")
    }
}

/// A worker played by the test over a real DEALER socket: it answers a task with a result of
/// the right size (zeros, which the coordinator cannot tell from a real one) or not at all.
final class ScriptedWorker {
    let peer: RawPeer
    /// Every task it was sent, by task id, in order.
    private(set) var leases: [Int64: [TaskAssignment]] = [:]
    private(set) var revoked: Set<LeaseRef> = []

    init(_ context: ZMQContext, endpoint: String, name: String) throws {
        peer = try RawPeer(context, endpoint: endpoint)
        try peer.send(.ready(WorkerHello(name: name, backends: ["procedural", "simulated"], slots: 1, memoryMegabytes: 1 << 20, tags: [])))
    }

    /// The tasks sent since the last call (waiting up to 50 ms for one).
    func take() throws -> [TaskAssignment] {
        var out: [TaskAssignment] = []
        for message in try peer.received(within: 0.05) {
            switch message {
            case .task(let assignment):
                leases[assignment.lease.task, default: []].append(assignment)
                out.append(assignment)
            case .revoke(let lease): revoked.insert(lease)
            default: break
            }
        }
        return out
    }

    func send(_ message: WireMessage) throws { try peer.send(message) }

    func answer(_ assignment: TaskAssignment) throws { try peer.answerWithZeros(assignment) }

    /// A heartbeat, reporting a step of `holding` when it holds a task.
    func heartbeat(holding: LeaseRef?) throws {
        try peer.send(.heartbeat(progress: holding.map { [TaskProgress(lease: $0, step: 1)] } ?? []))
    }
}

extension Conditioning {
    var isEmpty: Bool { pinned.isEmpty && initial == nil }
}
