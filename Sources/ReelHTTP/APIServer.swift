import Foundation
import Hummingbird
import Logging
import NIOCore
import ReelCoordinator
import ReelCore
import ReelStore

/// How the operator API listens and what it reads.
public struct APIServerOptions: Sendable {
    public var host: String
    public var port: Int
    /// PEM certificate chain and key: serve HTTPS.
    public var tlsCertificate: String?
    public var tlsKey: String?
    /// A TLS-terminating proxy fronts this listener, so it may listen beyond loopback in plain HTTP.
    public var behindTLSProxy = false
    /// The coordinator's data directory: its store (read on a connection of our own) and artifacts.
    public var dataDirectory: String
    /// Relative model folders in submitted specs are read from here.
    public var workingDirectory = FileManager.default.currentDirectoryPath
    /// Served at `/metrics` when given.
    public var metrics: PrometheusMetrics?

    public init(host: String, port: Int, dataDirectory: String) {
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
    }

    /// Why these options may not be used, or nil: beyond loopback only over TLS, given here
    /// or by a proxy in front; a certificate needs its key.
    public var problem: String? {
        if (tlsCertificate == nil) != (tlsKey == nil) { return "--http-tls-cert and --http-tls-key go together" }
        if tlsCertificate != nil && behindTLSProxy { return "--behind-tls-proxy and --http-tls-cert exclude each other" }
        if !Self.isLoopback(host) && tlsCertificate == nil && !behindTLSProxy {
            return
                "--http: refusing to serve the API on \(host), beyond loopback, in plain HTTP (tokens would cross the network in the clear): give --http-tls-cert and --http-tls-key, or --behind-tls-proxy when a TLS proxy fronts it"
        }
        return nil
    }

    static func isLoopback(_ host: String) -> Bool { host == "localhost" || host == "::1" || host.hasPrefix("127.") }
}

/// The operator's HTTP API and dashboard, served beside the coordinator (Hummingbird, on
/// threads of its own). It never touches the coordinator's store connection or state: it reads
/// the store on a read-only connection of its own and the loop's ``LiveSnapshot``, and posts
/// changes (submit, pause, resume, cancel) to the loop through the ``OperatorChannel``, where
/// they run through the same code as a ZeroMQ client's.
public final class APIServer: Sendable {
    private let running: HTTPListener.Running
    /// The address actually bound (a port 0 resolved).
    public var address: String { running.address }
    /// Set when stopping: the live feeds end.
    private let closing: APIHandlers?

    private init(running: HTTPListener.Running, closing: APIHandlers?) {
        self.running = running
        self.closing = closing
    }

    /// Starts serving; returns once it listens. The coordinator must have created its store.
    public static func start(_ options: APIServerOptions, channel: OperatorChannel, logger: Logger) async throws -> APIServer {
        if let problem = options.problem { throw ReelError(.usage, problem) }
        let handlers = try APIHandlers(options: options, channel: channel, logger: logger)
        let router = Router()
        handlers.register(on: router)
        let tls = options.tlsCertificate.map { HTTPListener.TLSFiles(certificate: $0, key: options.tlsKey!) }
        let running = try await HTTPListener.start(
            router, host: options.host, port: options.port, tls: tls, option: "--http", logger: logger)
        logger.info("operator API and dashboard on \(tls == nil ? "http" : "https")://\(running.address)/ (tokens: `reel token create`)")
        return APIServer(running: running, closing: handlers)
    }

    /// ``start(_:channel:logger:)`` for synchronous callers (the command line's main thread).
    public static func startBlocking(_ options: APIServerOptions, channel: OperatorChannel, logger: Logger) throws -> APIServer {
        try HTTPListener.blocking { try await start(options, channel: channel, logger: logger) }
    }

    /// Stops listening (in-flight requests finish).
    public func stop() {
        closing?.close()
        running.stop()
    }
}

extension APIServer {
    /// The OpenAPI 3.1 document served at `/v1/openapi.json`.
    public static var openAPIDocument: String { OpenAPIDocument.json }
}
