import Logging
import ReelCore
import ReelZMQ

/// The coordinator's CURVE identity and the clients (workers and submitters) it admits.
public struct CurveServerSecurity: Sendable {
    public var secretKey: [UInt8]
    /// Public key → the name it authenticates as (the allow-list file's name).
    public var allowedClients: [[UInt8]: String]
    /// Name → what that key may do.
    public var roles: [String: Role]

    /// `allowed` lists each role's keys (public key → name); a name or key in two lists is refused.
    public init(secretKey: [UInt8], allowed: [Role: [[UInt8]: String]]) throws {
        self.secretKey = secretKey
        allowedClients = [:]
        roles = [:]
        for role in Role.allCases {
            for (key, name) in allowed[role] ?? [:] {
                if let other = roles[name] {
                    throw ReelError(.usage, "the key name '\(name)' is allowed as both \(other.rawValue) and \(role.rawValue): each key has one role")
                }
                if allowedClients[key] != nil {
                    throw ReelError(.usage, "the key of '\(name)' is allowed twice (also as '\(allowedClients[key]!)')")
                }
                allowedClients[key] = name
                roles[name] = role
            }
        }
    }
}

/// What a peer may do. Under CURVE each allowed key has one role; on loopback without CURVE
/// (and with `--insecure`), every peer is the local user, who is admin.
public enum Role: String, Sendable, Hashable, CaseIterable {
    /// Announces itself, takes tasks and returns results; cannot submit, list or control jobs.
    case worker
    /// Submits jobs, and sees and controls the jobs it submitted.
    case submitter
    /// Sees and controls every job.
    case admin
}

/// The coordinator's ZAP handler, logging refusals.
typealias ZAPAuthenticator = ZAPHandler

extension ZAPHandler {
    convenience init(context: ZMQContext, allowed: [[UInt8]: String], logger: Logger) throws {
        try self.init(context: context, allowed: allowed, log: { logger.warning("\($0)") })
    }
}
