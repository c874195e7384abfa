import Foundation
import ReelCore

/// How a worker starts its model sidecar.
public struct SidecarOptions: Sendable {
    /// The Python interpreter of the environment that has `reel_sidecar` installed.
    public var python: String
    /// Torch threads on a CPU device (1 keeps results independent of the machine's core count).
    public var threads: Int
    /// The sidecar's stderr goes here (the last lines travel in FAILED reasons).
    public var logPath: String
    /// A request unanswered this long means the sidecar is stuck: it is killed and restarted.
    public var requestTimeoutSeconds: Double
    /// Memory the sidecar may allocate beyond what it maps at start (CPU devices; nil: no cap).
    /// An allocation past it fails, and the task is reported out of memory.
    public var maxMemoryMegabytes: Int?

    public init(python: String, threads: Int = 1, logPath: String, requestTimeoutSeconds: Double = 600, maxMemoryMegabytes: Int? = nil) {
        self.maxMemoryMegabytes = maxMemoryMegabytes
        self.python = python
        self.threads = threads
        self.logPath = logPath
        self.requestTimeoutSeconds = requestTimeoutSeconds
    }

    /// The interpreter to use when none is given: `$REEL_PYTHON`, else `.venv-diffusers/bin/python`
    /// in the current directory or above the executable (a checkout's `.build/<config>/reel`).
    public static func defaultPython(environment: [String: String] = ProcessInfo.processInfo.environment, executable: String)
        -> String?
    {
        if let python = environment["REEL_PYTHON"], !python.isEmpty { return python }
        var candidates = [FileManager.default.currentDirectoryPath]
        var folder = (executable as NSString).deletingLastPathComponent
        for _ in 0..<4 {
            candidates.append(folder)
            folder = (folder as NSString).deletingLastPathComponent
        }
        return candidates.map { $0 + "/.venv-diffusers/bin/python" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// Why a sidecar request did not succeed.
public struct SidecarFailure: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The process ended (or could not start).
        case died
        /// No answer within the request timeout.
        case timedOut = "timed-out"
        /// It answered something that is not the protocol.
        case garbled
        /// It answered with an error of its own: out-of-memory, bad-request, model.
        case outOfMemory = "out-of-memory"
        case refused
    }

    public let kind: Kind
    public let message: String

    public var description: String { kind == .outOfMemory ? "out of memory: \(message)" : "sidecar \(kind.rawValue): \(message)" }

    /// Whether the process must be restarted before it is used again.
    public var needsRestart: Bool { kind == .died || kind == .timedOut || kind == .garbled }
}

/// What the sidecar says of itself when it starts.
public struct SidecarHello: Sendable {
    public var device: String
    public var freeMemoryMegabytes: Int
    public var versions: String
}

/// The worker's model sidecar: a Python process (`python -m reel_sidecar`) it starts, owns and
/// restarts, spoken to over its stdin and stdout with the framing of `reel_sidecar.protocol`
/// (u32 header length, u64 payload length, JSON header, raw payload). Replies are awaited in
/// slices, calling `waiting` between them, so the worker keeps heartbeating through a long
/// model call and notices a dead sidecar within one slice.
public final class Sidecar {
    public static let protocolVersion = 1
    public let options: SidecarOptions
    private var process: Process?
    /// The sidecar's stdin (non-blocking, so a stuck sidecar cannot stall a write) and stdout.
    private var requests: Int32 = -1
    private var replies: Int32 = -1
    public private(set) var hello: SidecarHello?
    /// The model this process has loaded (folder, dtype) and whether it conditions natively.
    var loaded: (path: String, dtype: ModelDType, conditionsNatively: Bool)?
    /// How often the process has been started.
    public private(set) var starts = 0

    public init(options: SidecarOptions) { self.options = options }

    deinit { stop() }

    public var isRunning: Bool { process?.isRunning ?? false }
    /// The sidecar's process id, while it runs.
    public var processIdentifier: Int32? { isRunning ? process?.processIdentifier : nil }

    /// Starts the process unless it runs, and checks its protocol version.
    public func start(waiting: () -> Void = {}) throws(SidecarFailure) {
        if isRunning { return }
        stop()
        let process = Process(), input = Pipe(), output = Pipe()
        process.executableURL = URL(fileURLWithPath: options.python)
        process.arguments = ["-m", "reel_sidecar"]
        var environment = ProcessInfo.processInfo.environment
        environment["REEL_SIDECAR_THREADS"] = String(options.threads)
        environment["OMP_NUM_THREADS"] = String(options.threads)
        environment["PYTHONUNBUFFERED"] = "1"
        environment["REEL_SIDECAR_MAX_MEMORY_MB"] = options.maxMemoryMegabytes.map(String.init)
        process.environment = environment
        process.standardInput = input
        process.standardOutput = output
        _ = FileManager.default.createFile(atPath: options.logPath, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: options.logPath) ?? FileHandle.standardError
        do { try process.run() } catch {
            throw SidecarFailure(kind: .died, message: "cannot start \(options.python) -m reel_sidecar: \(error.localizedDescription)")
        }
        starts += 1
        self.process = process
        requests = dup(input.fileHandleForWriting.fileDescriptor)
        _ = fcntl(requests, F_SETFL, fcntl(requests, F_GETFL) | O_NONBLOCK)
        try? input.fileHandleForWriting.close()
        replies = dup(output.fileHandleForReading.fileDescriptor)
        let reply = try request(["op": "hello"], timeoutSeconds: 300, waiting: waiting)
        guard reply.header["protocol"] as? Int == Self.protocolVersion else {
            stop()
            throw SidecarFailure(
                kind: .garbled, message: "the sidecar speaks protocol \(reply.header["protocol"] ?? "none"), this worker \(Self.protocolVersion)")
        }
        let device = [reply.header["device"] as? String, reply.header["device_name"] as? String].compactMap { $0 }
        hello = SidecarHello(
            device: Array(Set(device)).sorted().joined(separator: " "), freeMemoryMegabytes: reply.header["free_memory_mb"] as? Int ?? 0,
            versions: "torch \(reply.header["torch"] ?? "?"), diffusers \(reply.header["diffusers"] ?? "?")")
    }

    /// Kills the process (if any) and forgets it.
    public func stop() {
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        if requests >= 0 { close(requests) }
        if replies >= 0 { close(replies) }
        process = nil
        loaded = nil
        requests = -1
        replies = -1
    }

    /// Sends one request and waits for its reply. A reply with `"ok": false` throws its error;
    /// a dead, stuck or garbled sidecar is stopped (the next `start` restarts it).
    public func request(
        _ header: [String: Any], payload: [UInt8] = [], timeoutSeconds: Double? = nil, waiting: () -> Void = {}
    ) throws(SidecarFailure) -> (header: [String: Any], payload: [UInt8]) {
        guard isRunning, requests >= 0 else { throw SidecarFailure(kind: .died, message: "not running; \(lastLines())") }
        guard let json = try? JSONSerialization.data(withJSONObject: header) else {
            throw SidecarFailure(kind: .refused, message: "request \(header["op"] ?? "?") is not JSON")
        }
        var prefix = [UInt8](repeating: 0, count: 12)
        prefix.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: UInt32(json.count).littleEndian, as: UInt32.self)
            raw.storeBytes(of: UInt64(payload.count).littleEndian, toByteOffset: 4, as: UInt64.self)
        }
        let deadline = Date().timeIntervalSince1970 + (timeoutSeconds ?? options.requestTimeoutSeconds)
        do throws(SidecarFailure) {
            try write(prefix + Array(json), deadline: deadline, waiting: waiting)
            try write(payload, deadline: deadline, waiting: waiting)
            let prefix = try read(12, deadline: deadline, waiting: waiting)
            let headerLength = prefix.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self))) }
            let payloadLength = prefix.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 4, as: UInt64.self)) }
            guard headerLength <= 1 << 20, payloadLength <= 8 << 30 else {
                throw SidecarFailure(kind: .garbled, message: "reply of \(headerLength) + \(payloadLength) bytes is over the limit")
            }
            let headerBytes = try read(headerLength, deadline: deadline, waiting: waiting)
            let body = try read(Int(payloadLength), deadline: deadline, waiting: waiting)
            guard let reply = (try? JSONSerialization.jsonObject(with: Data(headerBytes))) as? [String: Any] else {
                throw SidecarFailure(kind: .garbled, message: "reply header is not a JSON object")
            }
            guard reply["ok"] as? Bool == true else {
                let error = reply["error"] as? [String: Any]
                let kind = error?["kind"] as? String == "out-of-memory" ? SidecarFailure.Kind.outOfMemory : .refused
                throw SidecarFailure(kind: kind, message: error?["message"] as? String ?? "no message")
            }
            return (reply, body)
        } catch {
            if error.needsRestart { stop() }
            throw error
        }
    }

    /// Writes all of `bytes`, in slices while the pipe is full, under the request's deadline.
    private func write(_ bytes: [UInt8], deadline: Double, waiting: () -> Void) throws(SidecarFailure) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Foundation.write(requests, $0.baseAddress! + sent, bytes.count - sent) }
            if n > 0 {
                sent += n
                continue
            }
            guard n < 0, errno == EAGAIN || errno == EINTR else {
                throw SidecarFailure(kind: .died, message: "cannot send to the sidecar: \(String(cString: strerror(errno))); \(lastLines())")
            }
            var descriptor = pollfd(fd: requests, events: Int16(POLLOUT), revents: 0)
            if poll(&descriptor, 1, 250) == 0 {
                waiting()
                if Date().timeIntervalSince1970 > deadline {
                    throw SidecarFailure(kind: .timedOut, message: "no reply in \(Int(options.requestTimeoutSeconds)) s (it stopped reading); \(lastLines())")
                }
            }
        }
    }

    private func read(_ count: Int, deadline: Double, waiting: () -> Void) throws(SidecarFailure) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            var descriptor = pollfd(fd: replies, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, 250)
            if ready < 0 && errno == EINTR { continue }
            if ready == 0 {
                waiting()
                if Date().timeIntervalSince1970 > deadline {
                    throw SidecarFailure(kind: .timedOut, message: "no reply in \(Int(options.requestTimeoutSeconds)) s; \(lastLines())")
                }
                continue
            }
            let n = bytes.withUnsafeMutableBytes { Foundation.read(replies, $0.baseAddress! + got, count - got) }
            if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            if n <= 0 {
                process?.waitUntilExit()
                let status = process.map { "exit status \($0.terminationStatus)" } ?? "gone"
                throw SidecarFailure(kind: .died, message: "the sidecar ended (\(status)); \(lastLines())")
            }
            got += n
        }
        return bytes
    }

    /// The last lines the sidecar wrote to stderr (for FAILED reasons and logs).
    public func lastLines(_ count: Int = 12) -> String {
        guard let data = FileManager.default.contents(atPath: options.logPath) else { return "no sidecar log" }
        let lines = String(decoding: data.suffix(16384), as: UTF8.self).split(separator: "\n").suffix(count)
        return lines.isEmpty ? "the sidecar wrote nothing to stderr" : "its last lines: " + lines.joined(separator: " | ")
    }
}
