/// The single error type Reel raises: a machine-readable code and a message for people.
public struct ReelError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is, stable for scripts and tests.
    public enum Code: String, Sendable, Codable {
        case invalidSpec = "invalid-spec"
        case invalidMessage = "invalid-message"
        case store = "store"
        case artifact = "artifact"
        /// The disk (or the database) is full: the job pauses until space returns.
        case diskFull = "disk-full"
        case encode = "encode"
        case network = "network"
        case notFound = "not-found"
        case usage = "usage"
        /// The peer's role does not allow the request (a worker key listing jobs, a submitter
        /// controlling another's job is answered `not-found` instead, so as not to tell it exists).
        case forbidden = "forbidden"
        /// Too many requests are waiting; retry later.
        case busy = "busy"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
