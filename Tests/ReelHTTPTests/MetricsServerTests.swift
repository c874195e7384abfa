import Foundation
import Logging
import ReelHTTP
import Testing

@testable import ReelCoordinator

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The monitoring endpoint's own logic, over real HTTP on loopback: health follows the
/// coordinator's loop, requeues are labelled by cause, and the server answers even while
/// Swift's shared thread pool is blocked.
@Suite(.serialized) struct MetricsServerTests {
    /// GET's status code, waiting on URLSession's own queue (never on Swift's shared pool).
    func status(_ url: String, timeout: Double = 10) throws -> Int {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var outcome: Result<Int, any Error> = .failure(URLError(.timedOut))
        var request = URLRequest(url: URL(string: url)!)
        request.timeoutInterval = timeout
        URLSession.shared.dataTask(with: request) { _, response, error in
            outcome = error.map { .failure($0) } ?? .success((response as? HTTPURLResponse)?.statusCode ?? 0)
            done.signal()
        }.resume()
        done.wait()
        return try outcome.get()
    }

    func start(_ metrics: PrometheusMetrics, port: Int = 0, stuckAfterSeconds: Double = 30) throws -> MetricsServer {
        try MetricsServer.startBlocking(
            host: "127.0.0.1", port: port, metrics: metrics, stuckAfterSeconds: stuckAfterSeconds, logger: Logger(label: "test"))
    }

    @Test func healthFailsOnceTheLoopIsStuckAndReadinessWaitsForItsFirstTurn() throws {
        let metrics = PrometheusMetrics()
        let server = try start(metrics, stuckAfterSeconds: 5)
        defer { server.stop() }
        #expect(try status("http://\(server.address)/readyz") == 503, "not ready before the loop turns")
        #expect(try status("http://\(server.address)/healthz") == 200, "alive while starting")
        metrics.loopTurned(at: Date().timeIntervalSince1970)
        #expect(try status("http://\(server.address)/readyz") == 200)
        #expect(try status("http://\(server.address)/healthz") == 200)
        metrics.loopTurned(at: Date().timeIntervalSince1970 - 6)
        #expect(try status("http://\(server.address)/healthz") == 503, "a loop stuck past 5 s fails the liveness probe")
    }

    @Test func probesAreAnsweredWhileSwiftsSharedPoolIsBlocked() throws {
        let metrics = PrometheusMetrics()
        let server = try start(metrics)
        defer { server.stop() }
        metrics.loopTurned(at: Date().timeIntervalSince1970)
        // Every thread of the cooperative pool (one per core) sleeps for 4 s, and one more task waits.
        let blocked = DispatchGroup()
        for _ in 0..<(ProcessInfo.processInfo.activeProcessorCount + 1) {
            blocked.enter()
            Task.detached {
                usleep(4_000_000)  // blocks the thread, as a synchronous test does
                blocked.leave()
            }
        }
        Thread.sleep(forTimeInterval: 0.2)
        let started = Date()
        #expect(try status("http://\(server.address)/healthz", timeout: 3) == 200)
        #expect(Date().timeIntervalSince(started) < 3)
        blocked.wait()
    }

    @Test func requeuesAreLabelledByCause() {
        typealias Cause = PrometheusMetrics.RequeueCause
        #expect(Cause(reason: "worker w1 went silent") == .silent)
        #expect(Cause(reason: "worker w1 left") == .left)
        #expect(Cause(reason: "worker w1 failed it: out of memory") == .failed)
        #expect(Cause(reason: "reopened by the consistency pass") == .other)
        let metrics = PrometheusMetrics()
        metrics.requeued(reason: "worker w1 left")
        metrics.requeued(reason: "worker w2 left")
        #expect(metrics.exposition().contains(#"reel_requeues_total{cause="left"} 2"#))
    }

    @Test func aPortInUseIsAClearError() throws {
        let metrics = PrometheusMetrics()
        let first = try start(metrics)
        defer { first.stop() }
        let port = Int(first.address.split(separator: ":").last!)!
        #expect {
            _ = try start(metrics, port: port)
        } throws: { "\($0)".contains("cannot listen on 127.0.0.1:\(port)") }
    }
}
