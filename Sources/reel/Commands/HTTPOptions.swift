import ArgumentParser
import Foundation
import ReelHTTP

/// The operator API's options, shared by `reel coordinator` and `reel render`.
struct HTTPOptions: ParsableArguments {
    @Option(
        help:
            "Serve the operator API and dashboard on HOST:PORT (loopback unless TLS: --http-tls-cert/--http-tls-key, or --behind-tls-proxy). Tokens: `reel token create`."
    )
    var http: String?

    @Option(help: "PEM certificate chain to serve the API over HTTPS.")
    var httpTlsCert: String?

    @Option(help: "PEM private key of --http-tls-cert.")
    var httpTlsKey: String?

    @Flag(help: "A TLS-terminating proxy fronts --http: it may listen beyond loopback in plain HTTP.")
    var behindTlsProxy = false

    func validate() throws {
        if let http {
            _ = try HostPort(http, option: "--http")
            if let problem = try serverOptions(dataDirectory: "")?.problem { throw ValidationError(problem) }
            for path in [httpTlsCert, httpTlsKey].compactMap({ $0 }) where !FileManager.default.isReadableFile(atPath: path) {
                throw ValidationError("--http-tls-cert/--http-tls-key: cannot read \(path)")
            }
        } else if httpTlsCert != nil || httpTlsKey != nil || behindTlsProxy {
            throw ValidationError("--http-tls-cert, --http-tls-key and --behind-tls-proxy need --http")
        }
    }

    /// The server's options, nil without --http.
    func serverOptions(dataDirectory: String) throws -> APIServerOptions? {
        guard let http else { return nil }
        let address = try HostPort(http, option: "--http")
        var options = APIServerOptions(host: address.host, port: address.port, dataDirectory: dataDirectory)
        options.tlsCertificate = httpTlsCert
        options.tlsKey = httpTlsKey
        options.behindTLSProxy = behindTlsProxy
        return options
    }

    /// The same options as arguments of a `reel coordinator` child.
    var arguments: [String] {
        guard let http else { return [] }
        return ["--http", http] + (httpTlsCert.map { ["--http-tls-cert", $0] } ?? []) + (httpTlsKey.map { ["--http-tls-key", $0] } ?? [])
            + (behindTlsProxy ? ["--behind-tls-proxy"] : [])
    }
}
