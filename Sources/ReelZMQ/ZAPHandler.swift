import CZeroMQ

/// A ZAP (ZeroMQ Authentication Protocol, RFC 27) handler that admits CURVE clients whose
/// public key is on an allow-list, and names each by its list entry (the message's User-Id).
/// It must be created, in the server's context, before the server socket binds, and served
/// from the same thread as the server (call ``serve()`` when its socket is readable).
public final class ZAPHandler {
    public let socket: ZMQSocket
    private let allowed: [[UInt8]: String]
    private let log: (String) -> Void

    /// `allowed` maps 32-byte client public keys to the user id they authenticate as.
    public init(context: ZMQContext, allowed: [[UInt8]: String], log: @escaping (String) -> Void) throws {
        self.allowed = allowed
        self.log = log
        socket = try ZMQSocket(context, .reply)
        try socket.bind("inproc://zeromq.zap.01")
    }

    /// Answers every request waiting.
    public func serve() {
        while let request = try? socket.receive(maxFrames: 8) {
            let reply = answer(request.frames)
            _ = try? socket.send(reply)
        }
    }

    /// The reply frames for one request: version, request id, status, text, user id, metadata.
    func answer(_ frames: [[UInt8]]) -> [[UInt8]] {
        let version = Array("1.0".utf8)
        guard frames.count >= 6, frames[0] == version else {
            return [version, frames.count > 1 ? frames[1] : [], Array("500".utf8), Array("malformed ZAP request".utf8), [], []]
        }
        let requestID = frames[1], address = String(decoding: frames[3], as: UTF8.self)
        let mechanism = String(decoding: frames[5], as: UTF8.self)
        guard mechanism == "CURVE", frames.count >= 7, frames[6].count == 32 else {
            log("refused a \(mechanism) client from \(address): only CURVE is accepted")
            return [version, requestID, Array("400".utf8), Array("CURVE required".utf8), [], []]
        }
        guard let user = allowed[frames[6]] else {
            log("refused an unknown CURVE key \(Z85.encode(frames[6])) from \(address)")
            return [version, requestID, Array("400".utf8), Array("key not allowed".utf8), [], []]
        }
        return [version, requestID, Array("200".utf8), Array("OK".utf8), Array(user.utf8), []]
    }
}
