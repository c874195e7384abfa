import Foundation
import Logging
import ReelCore
import ReelSampler
import ReelWire
import ReelZMQ

/// How a worker is set up.
public struct WorkerOptions: Sendable {
    public var coordinator: String
    /// Unique name; also the ZeroMQ routing id the coordinator knows this worker by.
    public var name: String
    public var backends: [BackendKind]
    public var heartbeatSeconds: Double
    /// Silence from the coordinator this long means it is gone: reconnect.
    public var coordinatorTimeoutSeconds: Double
    public var reconnectInitialSeconds: Double
    public var reconnectMaxSeconds: Double
    /// Memory this worker may use for one chunk; larger chunks are refused (reported FAILED).
    public var maxMemoryMegabytes: Int?
    /// This worker's CURVE keys and the coordinator's public key, when authentication is on.
    public var curve: (keys: CurveKeyPair, serverKey: [UInt8])?
    /// The diffusers backend: how to start the model sidecar.
    public var sidecar: SidecarOptions?
    /// The diffusers backend: model folders this worker offers ("*": whatever path a task names).
    public var models: [String] = ["*"]
    /// Leave once the farm has had no uncommitted work of running jobs, and this worker no
    /// task, for this long (a batch system's worker releasing its allocation); nil: never.
    public var exitWhenIdleSeconds: Double?
    /// When stopped: how long to wait for the coordinator to acknowledge results already sent.
    public var drainSeconds: Double = 10

    public init(
        coordinator: String, name: String, backends: [BackendKind] = [.procedural], heartbeatSeconds: Double = 1,
        coordinatorTimeoutSeconds: Double = 5, reconnectInitialSeconds: Double = 0.25, reconnectMaxSeconds: Double = 8,
        maxMemoryMegabytes: Int? = nil, curve: (keys: CurveKeyPair, serverKey: [UInt8])? = nil
    ) {
        self.coordinator = coordinator
        self.name = name
        self.backends = backends
        self.heartbeatSeconds = heartbeatSeconds
        self.coordinatorTimeoutSeconds = coordinatorTimeoutSeconds
        self.reconnectInitialSeconds = reconnectInitialSeconds
        self.reconnectMaxSeconds = reconnectMaxSeconds
        self.maxMemoryMegabytes = maxMemoryMegabytes
        self.curve = curve
    }

    /// `host-pid`: unique per process, so a restarted worker is a new worker.
    public static var defaultName: String { "\(ProcessInfo.processInfo.hostName)-\(getpid())" }
}

/// The worker process's shell: one DEALER socket to the coordinator, the sampler on the same
/// thread. Heartbeats go out from inside the sampling loop, so a hung sampler goes silent and
/// its lease expires. Results stay until acknowledged and are resent after re-announcing.
public final class WorkerNode {
    let options: WorkerOptions
    let logger: Logger
    let context = ZMQContext()
    var socket: ZMQSocket
    var queue: [TaskAssignment] = []
    /// The lease being sampled now.
    var running: LeaseRef?
    /// Whether the coordinator revoked the running lease: its result is dropped, not sent.
    var runningRevoked = false
    var unacknowledged: [LeaseRef: TaskResult] = [:]
    var lastHeard: Double
    var lastSent: Double = 0
    var lastAnnounced = -Double.infinity
    /// A re-announce was asked for within a second of the last: sent when the second is up.
    var announceDue = false
    /// Denoising steps the running task has completed (reported in heartbeats).
    var runningStep: UInt32 = 0
    var backoff: Double
    /// When this worker last had a task, or heard the farm has uncommitted work (``WorkerOptions/exitWhenIdleSeconds``).
    var busyAt = 0.0
    /// Whether the coordinator's last heartbeat said the farm has uncommitted work.
    var farmHasWork = false
    /// Whether the coordinator has heartbeated since this worker last sent READY.
    var welcomed = false
    /// Chunks this worker has sampled (for logs and tests).
    public private(set) var completed = 0
    /// The model sidecar, when this worker runs the diffusers backend.
    let sidecar: Sidecar?
    /// When the sidecar was last (re)started while idle: a sidecar that cannot start is retried every 5 s, not every loop.
    var lastSidecarStart = -Double.infinity

    public init(options: WorkerOptions, logger: Logger) throws {
        self.options = options
        self.logger = logger
        backoff = options.reconnectInitialSeconds
        lastHeard = Date().timeIntervalSince1970
        sidecar = options.sidecar.map(Sidecar.init)
        socket = try Self.connect(context, options)
    }

    /// This process's routing id: "w" and 32 random hex digits, the same across reconnects.
    static let routingID: [UInt8] = Array(("w" + (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()).utf8)

    private static func connect(_ context: ZMQContext, _ options: WorkerOptions) throws -> ZMQSocket {
        let socket = try ZMQSocket(context, .dealer)
        // An unguessable routing id, so no peer can take this worker's place on the socket
        // by connecting first with it; the coordinator knows the worker by its READY's name.
        try socket.setOption(ZMQOption.routingID, bytes: routingID)
        try socket.setOption(ZMQOption.immediate, 1)
        try socket.setOption(ZMQOption.reconnectInterval, 100)
        try socket.setOption(ZMQOption.reconnectIntervalMax, 2000)
        try socket.setOption64(ZMQOption.maxMessageSize, JobSpec.maxMessageBytes)
        if let curve = options.curve { try socket.makeCurveClient(keys: curve.keys, serverKey: curve.serverKey) }
        do { try socket.connect(options.coordinator) } catch {
            throw ReelError(.network, "cannot connect to \(options.coordinator): \(error)")
        }
        return socket
    }

    func now() -> Double { Date().timeIntervalSince1970 }

    /// Works until `shouldStop` returns true (checked between tasks: the task being sampled is
    /// finished) or, with ``WorkerOptions/exitWhenIdleSeconds``, until idle that long; then leaves.
    public func run(until shouldStop: () -> Bool) throws {
        logger.info("worker \(options.name) connecting to \(options.coordinator)")
        startSidecar()
        announce()
        busyAt = now()
        while !shouldStop() {
            if !queue.isEmpty {
                runTask(queue.removeFirst(), shouldStop: shouldStop)
                busyAt = now()
                continue
            }
            // Busy while the coordinator's last word was that the farm has work: its heartbeats
            // to an idle worker come only every few seconds (decision 0036).
            if farmHasWork { busyAt = now() }
            if let idle = options.exitWhenIdleSeconds, unacknowledged.isEmpty, now() - busyAt >= idle {
                leave(because: "idle for \(Int(idle)) s")
                return
            }
            if try socket.waitReadable(timeoutMilliseconds: Int(options.heartbeatSeconds * 1000 / 2)) { try drain() }
            try keepAlive()
        }
        leave(because: "stopped")
    }

    /// Drains and says goodbye: waits (at most ``WorkerOptions/drainSeconds``) for the
    /// results already sent to be acknowledged, then sends DISCONNECT so the coordinator takes
    /// back every lease it holds, queued ones included, at once and with no failure counted.
    private func leave(because reason: String) {
        let deadline = now() + options.drainSeconds
        while !unacknowledged.isEmpty && now() < deadline {
            if (try? socket.waitReadable(timeoutMilliseconds: 50)) == true { try? drain() }
            if now() - lastSent >= options.heartbeatSeconds { send(heartbeat) }
        }
        let returned = queue.count
        queue.removeAll()
        // Long enough for the goodbye to leave before the socket closes.
        try? socket.setOption(ZMQOption.linger, 1000)
        send(.disconnect(reason: "worker \(options.name) \(reason)"))
        logger.info(
            "worker \(options.name) leaving (\(reason)): \(completed) tasks sampled, \(returned) queued handed back, \(unacknowledged.count) results unacknowledged"
        )
        socket.close()
        sidecar?.stop()
    }

    private func announce() {
        lastAnnounced = now()
        announceDue = false
        welcomed = false
        let hello = WorkerHello(
            name: options.name, backends: options.backends.map(\.rawValue), slots: 1,
            memoryMegabytes: memoryMegabytes, tags: [],
            holding: Array(Set(queue.map(\.lease) + (running.map { [$0] } ?? []) + unacknowledged.keys)).sorted { $0.task < $1.task },
            models: sidecar == nil ? [] : options.models, device: sidecar?.hello?.device ?? "")
        send(.ready(hello))
        for result in unacknowledged.values.sorted(by: { $0.lease.task < $1.lease.task }) { send(.result(result)) }
    }

    @discardableResult
    private func send(_ message: WireMessage) -> Bool {
        lastSent = now()
        do { return try socket.send(WireCodec.encode(message)) } catch {
            logger.warning("cannot send \(message.name): \(error)")
            return false
        }
    }

    private func drain() throws {
        while let message = try socket.receive(maxFrames: 4) {
            lastHeard = now()
            backoff = options.reconnectInitialSeconds
            let decoded: WireMessage
            do { decoded = try WireCodec.decode(message.frames) } catch {
                logger.warning("dropped a malformed message from the coordinator: \(error)")
                continue
            }
            switch decoded {
            case .task(let assignment):
                queue.append(assignment)
            case .ack(let lease):
                unacknowledged[lease] = nil
            case .revoke(let lease):
                // Another worker's copy of this task won, or the coordinator will not commit
                // our result: drop the task, or its result when it ends, or the result kept for
                // an ack that will not come.
                queue.removeAll { $0.lease == lease }
                unacknowledged[lease] = nil
                if running == lease { runningRevoked = true }
            case .disconnect(let reason):
                // At most once a second: a refusal (a name in use, a full farm) must not become a loop.
                logger.info("coordinator asks to re-announce: \(reason)")
                if now() - lastAnnounced >= 1 { announce() } else { announceDue = true }
            case .heartbeat(_, let outstanding):
                // The coordinator answers READY with a heartbeat: it knows this worker.
                welcomed = true
                // The farm has work (maybe none for this worker now): not idle.
                farmHasWork = outstanding > 0
                if farmHasWork { busyAt = now() }
            default:
                logger.warning("dropped an unexpected \(decoded.name) from the coordinator")
            }
        }
    }

    /// The memory this worker offers: its device's free memory (or the machine's), under any limit it was given.
    var memoryMegabytes: UInt64 {
        let free = sidecar?.hello.map { UInt64(max(0, $0.freeMemoryMegabytes)) } ?? (ProcessInfo.processInfo.physicalMemory >> 20)
        let limits = [options.maxMemoryMegabytes, options.sidecar?.maxMemoryMegabytes].compactMap { $0.map { UInt64(max(0, $0)) } }
        return ([free] + limits).min()!
    }

    /// Starts (or restarts) the model sidecar, logging where its stderr goes when it cannot.
    private func startSidecar() {
        guard let sidecar, !sidecar.isRunning else { return }
        let restart = sidecar.starts > 0
        do {
            try sidecar.start(waiting: { self.keepAliveWhileBusy() })
            logger.info(
                "model sidecar \(restart ? "restarted" : "started") (pid \(sidecar.processIdentifier ?? -1), \(sidecar.hello?.device ?? "?"), \(sidecar.hello?.versions ?? ""))"
            )
        } catch {
            logger.error("model sidecar did not start: \(error) (log: \(sidecar.options.logPath))")
        }
    }

    /// Heartbeats when idle; reconnects with back-off when the coordinator has gone silent.
    private func keepAlive() throws {
        if let sidecar, !sidecar.isRunning, now() - lastSidecarStart >= 5 {
            lastSidecarStart = now()
            logger.warning("model sidecar is not running; \(sidecar.lastLines(4))")
            startSidecar()
        }
        if announceDue && now() - lastAnnounced >= 1 { announce() }
        // Idle, both ends heartbeat `Liveness.idleFactor` times less often (decision 0036).
        let factor = isIdle ? Liveness.idleFactor : 1
        if now() - lastSent >= options.heartbeatSeconds * factor { send(heartbeat) }
        guard now() - lastHeard > options.coordinatorTimeoutSeconds * factor else { return }
        logger.warning("coordinator silent for \(String(format: "%.1f", now() - lastHeard)) s; reconnecting in \(backoff) s")
        // Whatever it last said about the farm's work no longer holds.
        farmHasWork = false
        socket.close()
        Thread.sleep(forTimeInterval: backoff)
        backoff = min(backoff * 2, options.reconnectMaxSeconds)
        socket = try Self.connect(context, options)
        lastHeard = now()
        announce()
    }

    /// Whether this worker has nothing to report: the coordinator knows it, and it has no task
    /// running or queued and every result acknowledged. Until the coordinator answers its READY
    /// (which may have gone before the connection was up, and is sent again when a heartbeat
    /// is answered "send READY"), it heartbeats at the busy rate.
    private var isIdle: Bool { welcomed && running == nil && queue.isEmpty && unacknowledged.isEmpty }

    /// A heartbeat with the running task's progress.
    private var heartbeat: WireMessage {
        .heartbeat(progress: running.map { [TaskProgress(lease: $0, step: runningStep)] } ?? [])
    }

    /// Heartbeats (when due) and reads the coordinator's messages from inside a long task.
    private func keepAliveWhileBusy() {
        if now() - lastSent >= options.heartbeatSeconds { send(heartbeat) }
        try? drain()
    }

    private func runTask(_ assignment: TaskAssignment, shouldStop: () -> Bool) {
        let started = now()
        let neededMegabytes = assignment.work.estimatedMegabytes
        if let limit = options.maxMemoryMegabytes, neededMegabytes > limit {
            logger.warning("refusing \(assignment.lease): needs about \(neededMegabytes) MB, this worker allows \(limit) MB")
            send(
                .failed(
                    assignment.lease, reason: "chunk needs about \(neededMegabytes) MB, worker \(options.name) allows \(limit) MB",
                    outOfMemory: true))
            return
        }
        running = assignment.lease
        runningStep = 0
        runningRevoked = false
        defer { running = nil }
        logger.debug("sampling \(assignment.lease) (\(assignment.work.region))")
        let stepped = {
            self.runningStep &+= 1
            // The first steps are reported at once: they restart the coordinator's stall clock.
            if self.runningStep <= 1 { self.send(self.heartbeat) }
        }
        let latents: [Float]
        if assignment.work.backend == .diffusers {
            guard let sidecar else {
                send(.failed(assignment.lease, reason: "worker \(options.name) has no model sidecar (start it with --backend diffusers)"))
                return
            }
            do {
                let runner = ModelRunner(sidecar: sidecar, waiting: { self.keepAliveWhileBusy() }, stepped: stepped)
                latents = try runner.run(assignment.work, conditioning: assignment.conditioning)
                logger.debug("\(assignment.lease): \(Int(runner.clock.seconds * 1000)) ms in the model")
            } catch {
                logger.warning("\(assignment.lease) failed: \(error)")
                send(
                    .failed(
                        assignment.lease, reason: String("worker \(options.name): \(error)".prefix(4000)),
                        outOfMemory: error.kind == .outOfMemory))
                if error.needsRestart { startSidecar() }
                return
            }
        } else {
            latents = ChunkSampler.sample(
                assignment.work, conditioning: assignment.conditioning, progress: { self.keepAliveWhileBusy() }, stepped: stepped)
        }
        guard !runningRevoked else {
            logger.info("dropped the result of \(assignment.lease): the coordinator revoked it while it was sampled")
            return
        }
        let bytes = LatentCodec.encode(latents)
        let result = TaskResult(
            lease: assignment.lease, checksum: Checksum.payload(bytes),
            sampleMilliseconds: UInt32(min(Double(UInt32.max), (now() - started) * 1000)), latents: bytes)
        if unacknowledged.count >= 8, let oldest = unacknowledged.keys.min(by: { $0.task < $1.task }) { unacknowledged[oldest] = nil }
        unacknowledged[assignment.lease] = result
        send(.result(result))
        completed += 1
        logger.debug("sampled \(assignment.lease) (\(assignment.work.region)) in \(Int((now() - started) * 1000)) ms")
    }
}
