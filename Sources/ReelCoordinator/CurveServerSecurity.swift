import Logging
import ReelZMQ

/// The coordinator's CURVE identity and the clients (workers and submitters) it admits.
public struct CurveServerSecurity: Sendable {
    public var secretKey: [UInt8]
    /// Public key → the name it authenticates as (the allow-list file's name).
    public var allowedClients: [[UInt8]: String]

    public init(secretKey: [UInt8], allowedClients: [[UInt8]: String]) {
        self.secretKey = secretKey
        self.allowedClients = allowedClients
    }
}

/// The coordinator's ZAP handler, logging refusals.
typealias ZAPAuthenticator = ZAPHandler

extension ZAPHandler {
    convenience init(context: ZMQContext, allowed: [[UInt8]: String], logger: Logger) throws {
        try self.init(context: context, allowed: allowed, log: { logger.warning("\($0)") })
    }
}
