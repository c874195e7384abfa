import Foundation
import ReelCore
import ReelWire
import ReelZMQ
import Testing

/// Decision 0036 from the worker's side: a real worker process, connected to a ROUTER socket
/// that stands in for the coordinator, heartbeats `Liveness.idleFactor` times less often while
/// it holds no task, and stays connected while the coordinator answers as rarely.
@Suite struct IdleHeartbeatTests {
    /// A ROUTER socket standing in for the coordinator on loopback.
    static func standIn(_ context: ZMQContext) throws -> ZMQSocket {
        let router = try ZMQSocket(context, .router)
        try router.setOption(ZMQOption.linger, 0)
        try router.bind("tcp://127.0.0.1:*")
        return router
    }

    /// A real worker process connected to `router`, heartbeating every 0.25 s, logging at info
    /// level to `log`.
    static func startWorker(connectingTo router: ZMQSocket, name: String, arguments: [String], log: String) throws -> Process {
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let worker = Process()
        worker.executableURL = URL(fileURLWithPath: ReelBinary.path)
        worker.arguments =
            ["worker", "--connect", try router.lastEndpoint(), "--name", name, "--heartbeat", "0.25", "--log-level", "info"] + arguments
        worker.standardError = FileHandle(forWritingAtPath: log)
        worker.standardOutput = FileHandle.nullDevice
        try worker.run()
        return worker
    }

    @Test func anIdleWorkerHeartbeatsLessOftenAndStaysConnected() throws {
        let context = ZMQContext()
        let router = try Self.standIn(context)
        let directory = TemporaryDirectory()
        let log = "\(directory.path)/idler.log"
        let worker = try Self.startWorker(connectingTo: router, name: "idler", arguments: ["--backend", "procedural"], log: log)
        defer {
            kill(worker.processIdentifier, SIGKILL)
            worker.waitUntilExit()
        }
        // For 9 s: note what the worker sends, and heartbeat it as the coordinator heartbeats an
        // idle worker with a 0.25 s heartbeat.
        let idleInterval = 0.25 * Liveness.idleFactor
        var heartbeats: [Double] = [], readies = 0
        var routing: [UInt8]?
        var answeredAt = -1.0
        let start = Date()
        while Date().timeIntervalSince(start) < 9 {
            if try router.waitReadable(timeoutMilliseconds: 20) {
                while let message = try router.receive() {
                    guard message.frames.count >= 2 else { continue }
                    routing = message.frames[0]
                    switch try? WireCodec.decode(Array(message.frames.dropFirst())) {
                    case .ready: readies += 1
                    case .heartbeat where readies == 0:
                        // As the coordinator answers a worker it does not know (its first READY may
                        // have gone before the connection was up).
                        _ = try router.send([message.frames[0]] + WireCodec.encode(.disconnect(reason: "unknown worker: send READY")))
                    case .heartbeat: heartbeats.append(Date().timeIntervalSince(start))
                    default: break
                    }
                }
            }
            let now = Date().timeIntervalSince(start)
            if let routing, readies > 0, now - answeredAt >= idleInterval {
                _ = try router.send([routing] + WireCodec.encode(.heartbeat(outstanding: 0)))
                answeredAt = now
            }
        }
        let window = heartbeats.filter { $0 >= 3 }
        // Busy, it would send 24 in those 6 s; idle, one every `idleInterval`.
        let expected = Int(6 / idleInterval)
        #expect(window.count >= expected - 1 && window.count <= expected + 1, "heartbeats from 3 s to 9 s at: \(window)")
        #expect(readies == 1, "it announced once and never reconnected: \(readies) READYs")
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(!text.contains("coordinator silent"), "log: \(text)")
    }
}

extension IdleHeartbeatTests {
    /// A result the coordinator will not commit (a straggler's backup that lost, a stale
    /// attempt) is answered with a revoke: a real worker forgets the result it sent, drops the
    /// one it is sampling when the revoke comes first, and so goes idle and leaves
    /// (`--exit-when-idle`) instead of holding an unacknowledged result forever.
    @Test func aRevokedResultIsForgottenAndTheWorkerLeavesWhenIdle() throws {
        let context = ZMQContext()
        let router = try Self.standIn(context)
        let directory = TemporaryDirectory()
        let log = "\(directory.path)/revoked.log"
        let worker = try Self.startWorker(
            connectingTo: router, name: "revoked", arguments: ["--backend", "simulated", "--exit-when-idle", "2"], log: log)
        defer {
            if worker.isRunning { kill(worker.processIdentifier, SIGKILL) }
            worker.waitUntilExit()
        }
        func task(_ id: Int64, stepMilliseconds: Int) -> TaskAssignment {
            var work = ChunkWork(
                backend: .simulated, prompt: "p", seed: 1, steps: 6, shift: 3,
                grid: LatentGrid(frames: 8, channels: 3, height: 4, width: 4), region: Region(frames: 0..<8, rows: 0..<4, columns: 0..<4))
            work.stepMilliseconds = stepMilliseconds
            return TaskAssignment(lease: LeaseRef(task: id, attempt: 1), leaseMilliseconds: 30000, work: work)
        }
        // Task 1 ends and its result is revoked; task 2 is revoked while it is sampled.
        var routing: [UInt8]?
        var results: [LeaseRef] = []
        var revokedRunning = false
        var heartbeatAt = -1.0
        let start = Date()
        while worker.isRunning && Date().timeIntervalSince(start) < 20 {
            if try router.waitReadable(timeoutMilliseconds: 20) {
                while let message = try router.receive(maxFrames: 4) {
                    guard message.frames.count >= 2 else { continue }
                    let from = message.frames[0]
                    func reply(_ answer: WireMessage) throws { _ = try router.send([from] + WireCodec.encode(answer)) }
                    switch try? WireCodec.decode(Array(message.frames.dropFirst())) {
                    case .ready where routing == nil:
                        routing = from
                        try reply(.heartbeat(outstanding: 2))
                        try reply(.task(task(1, stepMilliseconds: 10)))
                    case .result(let result):
                        results.append(result.lease)
                        try reply(.revoke(result.lease))
                        if result.lease.task == 1 { try reply(.task(task(2, stepMilliseconds: 300))) }
                    case .heartbeat where routing == nil:
                        // Its first READY went before the connection was up: as the coordinator answers.
                        try reply(.disconnect(reason: "unknown worker: send READY"))
                    case .heartbeat(let progress, _) where !revokedRunning && progress.contains { $0.lease.task == 2 }:
                        revokedRunning = true
                        try reply(.revoke(LeaseRef(task: 2, attempt: 1)))
                        try reply(.heartbeat(outstanding: 0))
                    default: break
                    }
                }
            }
            // Heartbeats as the coordinator sends them to a worker holding no lease.
            let now = Date().timeIntervalSince(start)
            if let routing, revokedRunning, now - heartbeatAt >= 0.25 * Liveness.idleFactor {
                _ = try router.send([routing] + WireCodec.encode(.heartbeat(outstanding: 0)))
                heartbeatAt = now
            }
        }
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(!worker.isRunning, "the worker left once idle; log: \(text)")
        #expect(results == [LeaseRef(task: 1, attempt: 1)], "only task 1's result was sent: \(results)")
        #expect(revokedRunning && text.contains("dropped the result of task 2 attempt 1"), "log: \(text)")
        #expect(text.contains("leaving (idle for 2 s)") && text.contains("0 results unacknowledged"), "log: \(text)")
    }
}
