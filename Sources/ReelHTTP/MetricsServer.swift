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
    private let serving: Task<Void, any Error>
    /// The address actually bound (a port 0 resolved).
    public let address: String

    private init(serving: Task<Void, any Error>, address: String) {
        self.serving = serving
        self.address = address
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
        let bound = BoundAddress()
        let app = Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "reel"),
            onServerRunning: { channel in
                bound.resolve(.success(channel.localAddress.map { "\($0.ipAddress ?? host):\($0.port ?? port)" } ?? ""))
            },
            logger: logger)
        // On threads of its own: a pool busy elsewhere (or blocked) never delays a probe.
        let serving = Task(executorPreference: ServerExecutor.shared) {
            do { try await app.run() } catch {
                bound.resolve(.failure(ReelError(.network, "--metrics: cannot listen on \(host):\(port): \(error)")))
                throw error
            }
        }
        do {
            let address = try await bound.value()
            logger.info("metrics and health on http://\(address)/metrics, /healthz, /readyz")
            return MetricsServer(serving: serving, address: address)
        } catch {
            serving.cancel()
            throw error
        }
    }

    /// ``start(host:port:metrics:stuckAfterSeconds:logger:)`` for synchronous callers (the
    /// command line's main thread); never call it from a task.
    public static func startBlocking(
        host: String, port: Int, metrics: PrometheusMetrics, stuckAfterSeconds: Double = 30, logger: Logger
    ) throws -> MetricsServer {
        let outcome = Mutex<Result<MetricsServer, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task(executorPreference: ServerExecutor.shared) {
            let result: Result<MetricsServer, any Error>
            do {
                result = .success(
                    try await start(host: host, port: port, metrics: metrics, stuckAfterSeconds: stuckAfterSeconds, logger: logger))
            } catch { result = .failure(error) }
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return try outcome.withLock { $0! }.get()
    }

    /// Stops listening (in-flight requests finish).
    public func stop() { serving.cancel() }
}

/// The bound address (or why there is none), handed once from the server's start-up to
/// whoever awaits it.
private final class BoundAddress: Sendable {
    private let state = Mutex<(result: Result<String, ReelError>?, waiter: CheckedContinuation<String, any Error>?)>((nil, nil))

    func resolve(_ result: Result<String, ReelError>) {
        let waiter = state.withLock { state -> CheckedContinuation<String, any Error>? in
            guard state.result == nil else { return nil }
            state.result = result
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(with: result.mapError { $0 as any Error })
    }

    func value() async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            let ready = state.withLock { state -> Result<String, ReelError>? in
                if state.result == nil { state.waiter = continuation }
                return state.result
            }
            if let ready { continuation.resume(with: ready.mapError { $0 as any Error }) }
        }
    }
}

/// Runs the server's tasks (and, by inheritance, every connection's) on a dispatch queue of
/// its own instead of Swift's shared cooperative pool, which the process may keep busy.
private final class ServerExecutor: TaskExecutor {
    static let shared = ServerExecutor()
    private let queue = DispatchQueue(label: "reel.http", attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
