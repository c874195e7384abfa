import Crypto
import Foundation
import HTTPTypes
import ReelCoordinator
import ReelStore

/// What an API token may do.
public enum APIRole: String, Sendable, Codable, CaseIterable {
    /// Reads every job, the workers and the events; changes nothing.
    case viewer
    /// Submits jobs, and reads and controls the jobs it submitted.
    case submitter
    /// Reads and controls every job, and sees the workers.
    case admin
}

/// Bearer tokens: made here, shown once, kept only as their SHA-256.
public enum APIToken {
    /// Longest token name (the owner name of the jobs it submits).
    public static let maxNameLength = 64

    /// A new token: `reel_` and 43 characters of base64url (256 random bits).
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return "reel_"
            + Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The hex SHA-256 the store keeps of `token`.
    public static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Why `name` cannot name a token, or nil: 1-64 letters, digits, `.`, `_`, `-`.
    public static func problem(withName name: String) -> String? {
        let allowed = name.unicodeScalars.allSatisfy {
            $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0))
        }
        return (1...maxNameLength).contains(name.count) && allowed ? nil : "must be 1-\(maxNameLength) letters, digits, '.', '_' or '-'"
    }
}

/// The authenticated sender of an API request.
struct APIPrincipal: Sendable, Hashable {
    let name: String
    let role: APIRole

    /// Whether it may read `job`'s details (viewers and admins read every job).
    func reads(_ job: JobRecord) -> Bool { role != .submitter || job.owner == name }

    /// Whether it may pause, resume or cancel `job`.
    func controls(_ job: JobRecord) -> Bool { role == .admin || (role == .submitter && job.owner == name) }

    /// Who the coordinator acts for (nil for a viewer, which changes nothing).
    var identity: OperatorIdentity? { role == .viewer ? nil : OperatorIdentity(name: name, admin: role == .admin) }
}

/// Why a request is refused before it reaches a handler's work.
struct APIRefusal: Error {
    let status: HTTPResponse.Status
    let code: String
    let message: String
    var problems: [FieldProblem] = []

    static func unauthorized(_ message: String) -> APIRefusal { APIRefusal(status: .unauthorized, code: "unauthorized", message: message) }
    static func forbidden(_ message: String) -> APIRefusal { APIRefusal(status: .forbidden, code: "forbidden", message: message) }
    static func notFound(_ message: String) -> APIRefusal { APIRefusal(status: .notFound, code: "not-found", message: message) }
    static func badRequest(_ message: String) -> APIRefusal { APIRefusal(status: .badRequest, code: "bad-request", message: message) }
}

/// Reads who sent a request: `Authorization: Bearer TOKEN`, or the `reel_session` cookie the
/// dashboard gets from `POST /v1/session` (for the requests a browser makes without headers:
/// images, video, server-sent events). A cookie never authorizes a change on its own: a POST
/// must also carry `X-Reel-Request: 1`, which no other site's page can add without CORS, which
/// this server does not grant.
struct APIAuthenticator: Sendable {
    static let cookieName = "reel_session"
    static let changeHeader = HTTPField.Name("X-Reel-Request")!
    let reader: StoreReader

    func principal(of headers: HTTPFields, changing: Bool) throws -> APIPrincipal {
        var token: String?
        if let authorization = headers[.authorization] {
            guard authorization.hasPrefix("Bearer "), authorization.count > 7 else {
                throw APIRefusal.unauthorized("the Authorization header must be 'Bearer TOKEN'")
            }
            token = String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        } else if let cookie = Self.cookie(in: headers) {
            if changing && headers[Self.changeHeader] != "1" {
                throw APIRefusal.forbidden("a change authorized by the session cookie must carry X-Reel-Request: 1")
            }
            token = cookie
        }
        guard let token, !token.isEmpty, token.utf8.count <= 256 else {
            throw APIRefusal.unauthorized("a bearer token is required (`reel token create`)")
        }
        guard let record = try reader.liveToken(hash: APIToken.hash(token)), let role = APIRole(rawValue: record.role) else {
            throw APIRefusal.unauthorized("the token is not known or was revoked")
        }
        return APIPrincipal(name: record.name, role: role)
    }

    /// The session cookie's value, if the request has one.
    static func cookie(in headers: HTTPFields) -> String? {
        for field in headers[values: .cookie] {
            for pair in field.split(separator: ";") {
                let parts = pair.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if parts.count == 2 && parts[0] == cookieName { return String(parts[1]) }
            }
        }
        return nil
    }
}
