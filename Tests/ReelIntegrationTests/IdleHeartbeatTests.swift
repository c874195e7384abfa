import Foundation
import ReelWire
import ReelZMQ
import Testing

/// Decision 0036 from the worker's side: a real worker process, connected to a ROUTER socket
/// that stands in for the coordinator, heartbeats `Liveness.idleFactor` times less often while
/// it holds no task, and stays connected while the coordinator answers as rarely.
@Suite struct IdleHeartbeatTests {
    @Test func anIdleWorkerHeartbeatsLessOftenAndStaysConnected() throws {
        let context = ZMQContext()
        let router = try ZMQSocket(context, .router)
        try router.setOption(ZMQOption.linger, 0)
        try router.bind("tcp://127.0.0.1:*")
        let directory = TemporaryDirectory()
        let log = "\(directory.path)/idler.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let worker = Process()
        worker.executableURL = URL(fileURLWithPath: ReelBinary.path)
        worker.arguments = [
            "worker", "--connect", try router.lastEndpoint(), "--name", "idler", "--heartbeat", "0.25", "--backend", "procedural",
            "--log-level", "info",
        ]
        worker.standardError = FileHandle(forWritingAtPath: log)
        worker.standardOutput = FileHandle.nullDevice
        try worker.run()
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
