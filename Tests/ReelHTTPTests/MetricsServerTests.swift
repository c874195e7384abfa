import Foundation
import Logging
import ReelHTTP
import Testing

@testable import ReelCoordinator

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The monitoring endpoint's own logic, over real HTTP on loopback: health follows the
/// coordinator's loop, and requeues are labelled by cause.
@Suite struct MetricsServerTests {
    func status(_ url: String) async throws -> Int {
        let (_, response) = try await URLSession.shared.data(from: URL(string: url)!)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }

    @Test func healthFailsOnceTheLoopIsStuckAndReadinessWaitsForItsFirstTurn() async throws {
        let metrics = PrometheusMetrics()
        let server = try await MetricsServer.start(
            host: "127.0.0.1", port: 0, metrics: metrics, stuckAfterSeconds: 5, logger: Logger(label: "test"))
        defer { server.stop() }
        #expect(try await status("http://\(server.address)/readyz") == 503, "not ready before the loop turns")
        #expect(try await status("http://\(server.address)/healthz") == 200, "alive while starting")
        metrics.loopTurned(at: Date().timeIntervalSince1970)
        #expect(try await status("http://\(server.address)/readyz") == 200)
        #expect(try await status("http://\(server.address)/healthz") == 200)
        metrics.loopTurned(at: Date().timeIntervalSince1970 - 6)
        #expect(try await status("http://\(server.address)/healthz") == 503, "a loop stuck past 5 s fails the liveness probe")
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

    @Test func aPortInUseIsAClearError() async throws {
        let metrics = PrometheusMetrics()
        let first = try await MetricsServer.start(host: "127.0.0.1", port: 0, metrics: metrics, logger: Logger(label: "test"))
        defer { first.stop() }
        let port = Int(first.address.split(separator: ":").last!)!
        await #expect {
            _ = try await MetricsServer.start(host: "127.0.0.1", port: port, metrics: metrics, logger: Logger(label: "test"))
        } throws: { "\($0)".contains("cannot listen on 127.0.0.1:\(port)") }
    }
}
