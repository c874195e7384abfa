import CZeroMQ
import Glibc

/// One libzmq socket. Not thread-safe: the thread that made it must be the only one to use it.
///
/// Messages are lists of frames (`[UInt8]` each). Linger is bounded by default so closing
/// never hangs on unsent messages.
public final class ZMQSocket {
    public enum Kind {
        case router, dealer, reply

        var rawValue: Int32 {
            switch self {
            case .router: ZMQ_ROUTER
            case .dealer: ZMQ_DEALER
            case .reply: ZMQ_REP
            }
        }
    }

    private var handle: UnsafeMutableRawPointer?
    private let context: ZMQContext

    public init(_ context: ZMQContext, _ kind: Kind) throws {
        guard let handle = zmq_socket(context.handle, kind.rawValue) else { throw ZMQError("zmq_socket") }
        self.handle = handle
        self.context = context
        try setOption(ZMQ_LINGER, 0)
    }

    deinit { close() }

    /// Closes the socket; further use throws ENOTSOCK.
    public func close() {
        if let handle { zmq_close(handle) }
        handle = nil
    }

    private func live() throws -> UnsafeMutableRawPointer {
        guard let handle else { throw ZMQError("closed socket") }
        return handle
    }

    /// Sets an `int` socket option.
    public func setOption(_ option: Int32, _ value: Int32) throws {
        var value = value
        if zmq_setsockopt(try live(), option, &value, MemoryLayout<Int32>.size) != 0 { throw ZMQError("zmq_setsockopt(\(option))") }
    }

    /// Sets an `int64` socket option (ZMQ_MAXMSGSIZE).
    public func setOption64(_ option: Int32, _ value: Int64) throws {
        var value = value
        if zmq_setsockopt(try live(), option, &value, MemoryLayout<Int64>.size) != 0 { throw ZMQError("zmq_setsockopt(\(option))") }
    }

    /// Sets a binary or string socket option (ZMQ_ROUTING_ID, CURVE keys).
    public func setOption(_ option: Int32, bytes: [UInt8]) throws {
        let result = bytes.withUnsafeBytes { zmq_setsockopt(handle, option, $0.baseAddress, bytes.count) }
        if result != 0 { throw ZMQError("zmq_setsockopt(\(option))") }
    }

    public func bind(_ endpoint: String) throws {
        if zmq_bind(try live(), endpoint) != 0 { throw ZMQError("zmq_bind(\(endpoint))") }
    }

    public func connect(_ endpoint: String) throws {
        if zmq_connect(try live(), endpoint) != 0 { throw ZMQError("zmq_connect(\(endpoint))") }
    }

    /// The endpoint actually bound (resolves a `*` port).
    public func lastEndpoint() throws -> String {
        var buffer = [CChar](repeating: 0, count: 512)
        var size = buffer.count
        if zmq_getsockopt(try live(), ZMQ_LAST_ENDPOINT, &buffer, &size) != 0 { throw ZMQError("ZMQ_LAST_ENDPOINT") }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Sends all frames as one message. Returns false when it would block (HWM reached or,
    /// with ROUTER_MANDATORY, an unknown peer answered EAGAIN); throws on other failures
    /// (EHOSTUNREACH for an unknown peer on a ROUTER with ROUTER_MANDATORY).
    @discardableResult
    public func send(_ frames: [[UInt8]], dontWait: Bool = true) throws -> Bool {
        let socket = try live()
        for (index, frame) in frames.enumerated() {
            var flags: Int32 = dontWait ? ZMQ_DONTWAIT : 0
            if index < frames.count - 1 { flags |= ZMQ_SNDMORE }
            let result = frame.withUnsafeBytes { zmq_send(socket, $0.baseAddress, frame.count, flags) }
            if result < 0 {
                if zmq_errno() == EAGAIN && index == 0 { return false }
                throw ZMQError("zmq_send")
            }
        }
        return true
    }

    /// Receives one whole message, or nil when none is waiting (with `dontWait`).
    /// A message with more than `maxFrames` frames is drained; its first `maxFrames` frames come
    /// back with `truncated` set, so a hostile peer cannot make us buffer unbounded frame lists.
    public func receive(dontWait: Bool = true, maxFrames: Int = 16) throws -> ReceivedMessage? {
        let socket = try live()
        var frames: [[UInt8]] = []
        var tooMany = false
        var userID: String?
        while true {
            var message = zmq_msg_t()
            zmq_msg_init(&message)
            defer { zmq_msg_close(&message) }
            if zmq_msg_recv(&message, socket, dontWait && frames.isEmpty && !tooMany ? ZMQ_DONTWAIT : 0) < 0 {
                if zmq_errno() == EAGAIN && frames.isEmpty && !tooMany { return nil }
                if zmq_errno() == EINTR && frames.isEmpty && !tooMany { return nil }
                throw ZMQError("zmq_msg_recv")
            }
            // The ROUTER's own identity frame carries no metadata: take it from the peer's frames.
            if userID == nil, let property = zmq_msg_gets(&message, "User-Id") {
                userID = String(cString: property)
            }
            if frames.count < maxFrames {
                let size = zmq_msg_size(&message)
                if let data = zmq_msg_data(&message), size > 0 {
                    frames.append(Array(UnsafeRawBufferPointer(start: data, count: size)))
                } else {
                    frames.append([])
                }
            } else {
                tooMany = true
            }
            if zmq_msg_more(&message) == 0 { break }
        }
        return ReceivedMessage(frames: frames, truncated: tooMany, userID: userID)
    }

    /// Waits up to `timeoutMilliseconds` for any of `sockets` to have a message; returns which do.
    /// `descriptors`: plain file descriptors (a pipe another thread writes to) waited on too;
    /// their readiness follows the sockets' in the result.
    public static func poll(_ sockets: [ZMQSocket], descriptors: [Int32] = [], timeoutMilliseconds: Int) throws -> [Bool] {
        var items = try sockets.map { zmq_pollitem_t(socket: try $0.live(), fd: 0, events: Int16(ZMQ_POLLIN), revents: 0) }
        items += descriptors.map { zmq_pollitem_t(socket: nil, fd: $0, events: Int16(ZMQ_POLLIN), revents: 0) }
        if zmq_poll(&items, Int32(items.count), timeoutMilliseconds) < 0 {
            if zmq_errno() == EINTR { return items.map { _ in false } }
            throw ZMQError("zmq_poll")
        }
        return items.map { $0.revents & Int16(ZMQ_POLLIN) != 0 }
    }

    /// Waits up to `timeoutMilliseconds` (-1: forever) for a message to read.
    public func waitReadable(timeoutMilliseconds: Int) throws -> Bool {
        var item = zmq_pollitem_t(socket: try live(), fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
        let result = zmq_poll(&item, 1, timeoutMilliseconds)
        if result < 0 {
            if zmq_errno() == EINTR { return false }
            throw ZMQError("zmq_poll")
        }
        return item.revents & Int16(ZMQ_POLLIN) != 0
    }
}

/// One received multipart message.
public struct ReceivedMessage: Sendable {
    public var frames: [[UInt8]]
    /// True when the peer sent more frames than allowed; the extra frames were discarded.
    public var truncated: Bool
    /// The user id the ZAP handler gave the peer's authenticated key, when CURVE is on.
    public var userID: String?
}

/// Option numbers this project uses, named (some are hidden behind libzmq's draft macro).
public enum ZMQOption {
    public static let linger = ZMQ_LINGER
    public static let routerMandatory = ZMQ_ROUTER_MANDATORY
    public static let maxMessageSize = ZMQ_MAXMSGSIZE
    public static let handshakeInterval = ZMQ_HANDSHAKE_IVL
    public static let immediate = ZMQ_IMMEDIATE
    public static let reconnectInterval = ZMQ_RECONNECT_IVL
    public static let reconnectIntervalMax = ZMQ_RECONNECT_IVL_MAX
    public static let routingID = ZMQ_ROUTING_ID
    public static let sendHighWaterMark = ZMQ_SNDHWM
    public static let receiveHighWaterMark = ZMQ_RCVHWM
    public static let heartbeatInterval = ZMQ_HEARTBEAT_IVL
    public static let heartbeatTimeout = ZMQ_HEARTBEAT_TIMEOUT
}
