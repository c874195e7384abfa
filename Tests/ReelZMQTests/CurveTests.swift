import Foundation
import Testing

@testable import ReelZMQ

/// CURVE and ZAP on real loopback sockets.
@Suite(.serialized) struct CurveTests {
    /// Connects a CURVE client with `clientKeys` to `server` and sends one message; returns what
    /// the server received within `timeout` (nil when the handshake was refused).
    func exchange(server: ZMQSocket, context: ZMQContext, serverKey: [UInt8], clientKeys: CurveKeyPair, zap: ZAPHandler?) throws
        -> ReceivedMessage?
    {
        let client = try ZMQSocket(context, .dealer)
        try client.makeCurveClient(keys: clientKeys, serverKey: serverKey)
        try client.connect(try server.lastEndpoint())
        _ = try client.send([Array("hello".utf8)], dontWait: true)
        let deadline = Date().addingTimeInterval(1.5)
        while Date() < deadline {
            let ready = try ZMQSocket.poll([server] + (zap.map { [$0.socket] } ?? []), timeoutMilliseconds: 50)
            if ready.count > 1 && ready[1] { zap?.serve() }
            if ready[0], let message = try server.receive() { return message }
        }
        return nil
    }

    @Test func withoutAZAPHandlerEveryClientIsRefused() throws {
        let context = ZMQContext()
        let serverKeys = try CurveKeyPair.generate()
        let server = try ZMQSocket(context, .router)
        try server.makeCurveServer(secretKey: serverKeys.secretKey)
        try server.bind("tcp://127.0.0.1:*")
        let received = try exchange(
            server: server, context: context, serverKey: serverKeys.publicKey, clientKeys: try CurveKeyPair.generate(), zap: nil)
        #expect(received == nil, "fail closed: no handler must not mean accept-all")
    }

    @Test func theZAPHandlerAdmitsListedKeysOnlyAndNamesThem() throws {
        let context = ZMQContext()
        let serverKeys = try CurveKeyPair.generate(), listed = try CurveKeyPair.generate(), unknown = try CurveKeyPair.generate()
        var refusals: [String] = []
        let zap = try ZAPHandler(context: context, allowed: [listed.publicKey: "render-node-7"], log: { refusals.append($0) })
        let server = try ZMQSocket(context, .router)
        try server.makeCurveServer(secretKey: serverKeys.secretKey)
        try server.bind("tcp://127.0.0.1:*")
        let admitted = try exchange(server: server, context: context, serverKey: serverKeys.publicKey, clientKeys: listed, zap: zap)
        #expect(admitted?.frames.last == Array("hello".utf8))
        #expect(admitted?.userID == "render-node-7", "the authenticated identity travels with every message")
        let refused = try exchange(server: server, context: context, serverKey: serverKeys.publicKey, clientKeys: unknown, zap: zap)
        #expect(refused == nil)
        #expect(refusals.contains { $0.contains("refused an unknown CURVE key \(Z85.encode(unknown.publicKey))") })
    }

    @Test func z85RoundTripsAndRejectsGarbage() throws {
        let keys = try CurveKeyPair.generate()
        #expect(try Z85.decode(Z85.encode(keys.publicKey)) == keys.publicKey)
        #expect(throws: ZMQError.self) { try Z85.decode("short") }
    }
}
