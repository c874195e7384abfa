import Foundation
import Hummingbird
import Logging
import NIOCore
import ReelCoordinator
import ReelCore
import Synchronization

/// The coordinator's read-only monitoring endpoint (Hummingbird, on threads of its own):
/// `GET /metrics` (Prometheus text), `GET /healthz` (200 while the coordinator's loop turns,
/// 503 once it has been stuck for `stuckAfterSeconds`) and `GET /readyz` (200 once the loop
/// has turned: the store is open and the ZeroMQ endpoint bound). It reads only
/// ``PrometheusMetrics``, never the coordinator's store or state, so no request can slow the
/// loop. It serves no job data and takes no commands: like any exporter it may listen
/// beyond loopback (the operator API, with tokens, is a separate listener).
public final class MetricsServer: Sendable {
    private let running: HTTPListener.Running
    /// The address actually bound (a port 0 resolved).
    public var address: String { running.address }

    private init(running: HTTPListener.Running) {
        self.running = running
    }

    /// Starts serving on `host:port` (port 0: any free port); returns once it listens.
    public static func start(
        host: String, port: Int, metrics: PrometheusMetrics, stuckAfterSeconds: Double = 30, logger: Logger
    ) async throws -> MetricsServer {
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.exposition())))
        }
        router.get("/healthz") { _, _ -> Response in
            let age = metrics.loopAge(now: Date().timeIntervalSince1970)
            let healthy = age.map { $0 < stuckAfterSeconds } ?? true
            let text = age.map { String(format: "loop turned %.3f s ago\n", $0) } ?? "starting\n"
            return Response(status: healthy ? .ok : .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        router.get("/readyz") { _, _ -> Response in
            let ready = metrics.loopAge(now: Date().timeIntervalSince1970) != nil
            return Response(
                status: ready ? .ok : .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: ready ? "ready\n" : "starting\n")))
        }
        let running = try await HTTPListener.start(router, host: host, port: port, option: "--metrics", logger: logger)
        logger.info("metrics and health on http://\(running.address)/metrics, /healthz, /readyz")
        return MetricsServer(running: running)
    }

    /// ``start(host:port:metrics:stuckAfterSeconds:logger:)`` for synchronous callers (the
    /// command line's main thread); never call it from a task.
    public static func startBlocking(
        host: String, port: Int, metrics: PrometheusMetrics, stuckAfterSeconds: Double = 30, logger: Logger
    ) throws -> MetricsServer {
        try HTTPListener.blocking {
            try await start(host: host, port: port, metrics: metrics, stuckAfterSeconds: stuckAfterSeconds, logger: logger)
        }
    }

    /// Stops listening (in-flight requests finish).
    public func stop() { running.stop() }
}
