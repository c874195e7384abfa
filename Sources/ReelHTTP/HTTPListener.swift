import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import ReelCore
import ServiceLifecycle
import Synchronization

/// Starting a Hummingbird server the way every Reel listener runs: on a task executor of its
/// own (so a busy or blocked shared pool never delays a request), returning once it listens.
enum HTTPListener {
    /// A PEM certificate chain and private key to serve HTTPS with.
    struct TLSFiles: Sendable {
        let certificate: String
        let key: String
    }

    /// A running server: where it listens, and how to stop it.
    final class Running: Sendable {
        let address: String
        private let serving: Task<Void, any Error>
        private let group: ServiceGroup

        init(address: String, serving: Task<Void, any Error>, group: ServiceGroup) {
            self.address = address
            self.serving = serving
            self.group = group
        }

        /// Stops accepting connections and lets requests in flight finish (an endless
        /// response watches its own stop flag); gives up on them after `graceSeconds`.
        func stop(graceSeconds: Double = 2) {
            let group = self.group, serving = self.serving
            Task(executorPreference: ServerExecutor.shared) { await group.triggerGracefulShutdown() }
            Task(executorPreference: ServerExecutor.shared) {
                try? await Task.sleep(for: .seconds(graceSeconds))
                serving.cancel()
            }
        }
    }

    /// Starts serving `responder` on `host:port` (port 0: any free port); returns once it
    /// listens. `option` names the command-line option in errors.
    static func start<Responder: HTTPResponderBuilder>(
        _ responder: Responder, host: String, port: Int, tls: TLSFiles? = nil, option: String, logger: Logger
    ) async throws -> Running
    where Responder.Responder.Context: InitializableFromSource<ApplicationRequestContextSource> {
        var server = HTTPServerBuilder.http1()
        if let tls {
            do {
                let chain = try NIOSSLCertificate.fromPEMFile(tls.certificate).map { NIOSSLCertificateSource.certificate($0) }
                let key = try NIOSSLPrivateKey(file: tls.key, format: .pem)
                server = try .tls(
                    .http1(), tlsConfiguration: .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key)))
            } catch {
                throw ReelError(.usage, "\(option): cannot load the TLS certificate \(tls.certificate) and key \(tls.key): \(error)")
            }
        }
        let bound = BoundAddress()
        let app = Application(
            router: responder, server: server, configuration: .init(address: .hostname(host, port: port), serverName: "reel"),
            onServerRunning: { channel in
                bound.resolve(.success(channel.localAddress.map { "\($0.ipAddress ?? host):\($0.port ?? port)" } ?? ""))
            },
            logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        let serving = Task(executorPreference: ServerExecutor.shared) {
            do { try await group.run() } catch {
                bound.resolve(.failure(ReelError(.network, "\(option): cannot listen on \(host):\(port): \(error)")))
                throw error
            }
        }
        do {
            return Running(address: try await bound.value(), serving: serving, group: group)
        } catch {
            serving.cancel()
            throw error
        }
    }

    /// Runs `start` from a synchronous caller (the command line's main thread) and waits for
    /// it; never call it from a task.
    static func blocking<T: Sendable>(_ start: @escaping @Sendable () async throws -> T) throws -> T {
        let outcome = Mutex<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task(executorPreference: ServerExecutor.shared) {
            let result: Result<T, any Error>
            do { result = .success(try await start()) } catch { result = .failure(error) }
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return try outcome.withLock { $0! }.get()
    }
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

/// Runs the servers' tasks (and, by inheritance, every connection's) on a dispatch queue of
/// its own instead of Swift's shared cooperative pool, which the process may keep busy.
final class ServerExecutor: TaskExecutor {
    static let shared = ServerExecutor()
    private let queue = DispatchQueue(label: "reel.http", attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
