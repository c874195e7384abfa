import Crypto
import Foundation
import ReelCore
import ReelStore
import Testing

/// Job notices: a finished job's signed POST to its spec's `notify_url`, retried while the
/// receiver (a real HTTP server, started late) is down, and recorded as the job's events.
@Suite(.serialized) struct WebhookTests {
    /// Starts the receiver: every POST answered 200 and written to `folder`.
    static func receiver(port: Int, folder: String) throws -> Process {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [
            "\(Diffusers.repository)/Tests/ReelOperatorTools/webhook_receiver.py", "--port", "\(port)", "--folder", folder,
        ]
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    @Test func aNoticeIsSignedRetriedWhileTheReceiverIsDownAndRecorded() throws {
        let directory = TemporaryDirectory()
        let port = try MetricsEndpointTests.freePort()
        let cluster = try TestCluster(data: "\(directory.path)/data", coordinatorArguments: ["--notify-allow-host", "127.0.0.1"])
        defer { cluster.stop() }
        let spec = writeSpec(
            in: directory.path, name: "notified", seconds: 2, seed: 21, extra: "notify_url = \"http://127.0.0.1:\(port)/hooks/reel\"")
        let job = try cluster.submit(spec, output: "notified.mp4")
        try cluster.startWorker("notified-1")
        let done = try cluster.waitFor(job: job) { $0.state == "done" }
        let store = try cluster.store()
        // Nobody listens yet: the attempt fails, is recorded, and is retried.
        try waitUntil("a failed attempt is recorded", timeout: 20) { try store.events(job: job).contains { $0.kind == "webhook-failed" } }
        let received = "\(directory.path)/received"
        let server = try Self.receiver(port: port, folder: received)
        // SIGKILL: children of the test runner inherit its blocked SIGTERM.
        defer {
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        try waitUntil("the notice is delivered", timeout: 40) { try store.events(job: job).contains { $0.kind == "webhook-delivered" } }
        let events = try store.events(job: job).filter { $0.kind.hasPrefix("webhook-") }
        #expect(
            events.first?.detail.contains("job.done attempt 1") == true && events.last?.detail.contains("HTTP 200") == true, "\(events)")

        let request = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(received)/request-0.json"))) as? [String: Any])
        let headers = request["headers"] as? [String: String] ?? [:]
        let body = Array((request["body"] as? String ?? "").utf8)
        #expect(request["path"] as? String == "/hooks/reel")
        let notice = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        let noticed = notice["job"] as? [String: Any] ?? [:]
        #expect(notice["event"] as? String == "job.done" && noticed["id"] as? Int == Int(job) && noticed["state"] as? String == "done")
        #expect(noticed["frameChecksum"] as? String == done.frameChecksum && done.frameChecksum != nil)
        #expect(headers["X-Reel-Event"] == "job.done" && headers["X-Reel-Delivery"] == "\(job).job.done")
        // The signature is HMAC-SHA256 of the body under the key the coordinator made in its data folder.
        let secret = try String(contentsOfFile: "\(cluster.data)/webhook.secret", encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines)
        let expected =
            "sha256="
            + HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8)))
            .map { String(format: "%02x", $0) }.joined()
        #expect(headers["X-Reel-Signature"] == expected, "\(headers)")
        let tampered = HMAC<SHA256>.authenticationCode(for: body + [0x20], using: SymmetricKey(data: Array(secret.utf8)))
        #expect(headers["X-Reel-Signature"] != "sha256=" + tampered.map { String(format: "%02x", $0) }.joined())
        measure(
            "webhook: job done to delivered, receiver down for the first attempt",
            String(format: "%.1f s, %d attempts", events.last!.at - done.updatedAt, events.count))

        // A cancelled job is noticed too.
        let second = try cluster.submit(
            writeSpec(in: directory.path, name: "stopped", seconds: 30, seed: 22, extra: "notify_url = \"http://127.0.0.1:\(port)/x\""),
            output: "stopped.mp4")
        _ = try cluster.client().control(job: second, .cancel)
        try waitUntil("the cancellation is noticed", timeout: 20) {
            FileManager.default.fileExists(atPath: "\(received)/request-1.json")
        }
        let cancelled = try String(contentsOfFile: "\(received)/request-1.json", encoding: .utf8)
        #expect(cancelled.contains("job.cancelled"), "\(cancelled)")

        // A redirect is a failed attempt, not followed: nothing lands where it pointed.
        let third = try cluster.submit(
            writeSpec(in: directory.path, name: "moved", seconds: 30, seed: 23, extra: "notify_url = \"http://127.0.0.1:\(port)/moved\""),
            output: "moved.mp4")
        _ = try cluster.client().control(job: third, .cancel)
        try waitUntil("the redirect is recorded as a failed attempt", timeout: 20) {
            try store.events(job: third).contains { $0.kind == "webhook-failed" && $0.detail.contains("HTTP 302") }
        }
        Thread.sleep(forTimeInterval: 1.5)
        let landed = try FileManager.default.contentsOfDirectory(atPath: received).filter {
            (try? String(contentsOfFile: "\(received)/\($0)", encoding: .utf8))?.contains("\"/landed\"") == true
        }
        #expect(landed.isEmpty, "the notice followed the redirect: \(landed)")
    }

    @Test func aNotifyURLOnAHostTheCoordinatorDoesNotAllowIsRefusedByField() throws {
        let directory = TemporaryDirectory()
        let cluster = try TestCluster(data: "\(directory.path)/data", coordinatorArguments: ["--notify-allow-host", "127.0.0.1"])
        defer { cluster.stop() }
        for (url, expected) in [
            ("http://169.254.169.254/latest/meta-data", "is not one this coordinator notifies"),
            ("ftp://127.0.0.1/x", "http:// or https://"),
            ("http://user:pw@127.0.0.1/x", "no credentials"),
        ] {
            let spec = writeSpec(in: directory.path, name: "probe", seed: 3, extra: "notify_url = \"\(url)\"")
            #expect(throws: ReelError.self) { try cluster.submit(spec, output: "probe.mp4") }
            do { _ = try cluster.submit(spec, output: "probe.mp4") } catch let error as ReelError {
                #expect(error.message.contains("notify_url") && error.message.contains(expected), "\(url): \(error.message)")
            }
        }
        #expect(try cluster.store().jobs().isEmpty)
        let bare = try TestCluster(data: "\(directory.path)/bare")
        defer { bare.stop() }
        let spec = writeSpec(in: directory.path, name: "unsent", seed: 3, extra: "notify_url = \"http://127.0.0.1:9/x\"")
        do { _ = try bare.submit(spec, output: "unsent.mp4"); Issue.record("a coordinator sending no notices took a notify_url") } catch let
            error as ReelError
        {
            #expect(error.message.contains("sends no notices"), "\(error.message)")
        }
    }
}
