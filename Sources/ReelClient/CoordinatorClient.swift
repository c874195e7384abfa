import Foundation
import ReelCore
import ReelWire
import ReelZMQ

/// A client's connection to a coordinator: one request, one reply, with a timeout.
public final class CoordinatorClient {
    public let endpoint: String
    /// How long a request waits for its reply.
    public var timeoutSeconds: Double = 10
    private let context = ZMQContext()
    private let socket: ZMQSocket

    /// Connects to `endpoint`; with `curve`, as a CURVE client of a coordinator with that server key.
    public init(endpoint: String, curve: (keys: CurveKeyPair, serverKey: [UInt8])? = nil) throws {
        self.endpoint = endpoint
        socket = try ZMQSocket(context, .dealer)
        if let curve { try socket.makeCurveClient(keys: curve.keys, serverKey: curve.serverKey) }
        try socket.connect(endpoint)
    }

    /// Pauses, resumes or cancels a job; returns its status afterwards.
    public func control(job: Int64, _ action: JobControl) throws -> StatusReport {
        guard case .statusReply(let json) = try request(.control(job: job, action: action)) else {
            throw ReelError(.network, "unexpected reply to CONTROL")
        }
        return try JSONDecoder().decode(StatusReport.self, from: Data(json))
    }

    /// Sends `message` and waits for the reply; an ERROR reply is thrown as a ``ReelError``.
    public func request(_ message: WireMessage) throws -> WireMessage {
        _ = try socket.send(WireCodec.encode(message), dontWait: false)
        guard try socket.waitReadable(timeoutMilliseconds: Int(timeoutSeconds * 1000)),
            let reply = try socket.receive()
        else {
            throw ReelError(
                .network, "no answer from the coordinator at \(endpoint) within \(Int(timeoutSeconds)) s (is `reel coordinator` running?)")
        }
        let decoded = try WireCodec.decode(reply.frames)
        if case .error(let code, let text) = decoded {
            throw ReelError(ReelError.Code(rawValue: code) ?? .network, text)
        }
        return decoded
    }

    /// Submits a validated spec (with an absolute output path); returns the job id.
    public func submit(_ spec: JobSpec) throws -> Int64 {
        guard case .submitted(let job) = try request(.submit(specJSON: Array(try JSONEncoder().encode(spec)))) else {
            throw ReelError(.network, "unexpected reply to SUBMIT")
        }
        return job
    }

    /// The status of one job, or of every job.
    public func status(job: Int64? = nil) throws -> StatusReport {
        guard case .statusReply(let json) = try request(.status(job: job)) else {
            throw ReelError(.network, "unexpected reply to STATUS")
        }
        return try JSONDecoder().decode(StatusReport.self, from: Data(json))
    }

    /// The endpoint recorded in a data directory by a running coordinator, if any.
    public static func endpoint(inDataDirectory directory: String) -> String? {
        (try? String(contentsOfFile: "\(directory)/coordinator.endpoint", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
