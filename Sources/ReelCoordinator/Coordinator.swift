import Crypto
import Foundation
import Logging
import ReelCore
import ReelPlan
import ReelStore
import ReelWire
import ReelZMQ

/// A job the coordinator is working on: its spec, plan, where its committed outputs are,
/// and its first task id (task `firstTask + u` is plan unit `u`).
struct LoadedJob {
    let spec: JobSpec
    let plan: Plan
    /// Where each unit's committed output is.
    let index: ArtifactIndex
    let firstTask: Int64
    /// The order its tasks are paged in (``Planner/pageOrder(_:)``), and each unit's position in it.
    let pageOrder: [Int32]
    let pagePosition: [Int32]
    /// Units whose task rows exist, from the first (the last unit's row, which reserves the
    /// job's ids, exists from the start). A large job's rows go in a batch at a time.
    var insertedUnits: Int

    /// Whether every task row exists.
    var isInserted: Bool { insertedUnits >= plan.units.count }

    init(spec: JobSpec, plan: Plan, index: ArtifactIndex, firstTask: Int64, insertedUnits: Int) {
        self.spec = spec
        self.plan = plan
        self.index = index
        self.firstTask = firstTask
        self.insertedUnits = insertedUnits
        pageOrder = Planner.pageOrder(plan)
        var positions = [Int32](repeating: 0, count: pageOrder.count)
        for (position, unit) in pageOrder.enumerated() { positions[Int(unit)] = Int32(position) }
        pagePosition = positions
    }

    /// Whether `unit`'s task row exists.
    func isInserted(unit: Int) -> Bool { unit < insertedUnits || unit == plan.units.count - 1 }

    /// The plan unit of a task id of this job, nil when it is not one.
    func unit(of task: Int64) -> Int? {
        let unit = task - firstTask
        return unit >= 0 && unit < Int64(plan.units.count) ? Int(unit) : nil
    }
}

/// The authenticated sender of a request and what it may do.
struct Caller {
    /// The owner name of jobs submitted without CURVE.
    static let local = "local"
    let name: String
    let role: Role

    /// Whether it may see and control `record`.
    func sees(_ record: JobRecord) -> Bool { role == .admin || record.owner == name }
}

/// A lease the scheduler gave, waiting to be sent (then recorded) with the next batch.
struct DeferredDispatch: Sendable {
    let worker: WorkerID
    var assignment: TaskAssignment
    let job: Int64
    let unit: Int
    let expiresAt: Double
    /// When the message (or tick) that led to it arrived: dispatch latency runs from here.
    let requestedAt: Double
    /// One of a new job's first tasks, sent to every idle worker at once (measured apart).
    var startsJob = false
    /// Its conditioning, built and encoded beside the loop (the assignment's own is not sent).
    var conditioning = EncodedConditioning.none
}

/// How a coordinator is set up.
public struct CoordinatorOptions: Sendable {
    public var dataDirectory: String
    public var bind: String
    public var timings: SchedulerTimings
    /// Largest message a peer may send, enforced by libzmq before the bytes are read: by
    /// default the largest any valid job makes (libzmq fixes it per connection when it is
    /// made, so it cannot follow the jobs of the moment).
    public var maxMessageBytes: Int64
    /// Jobs may write their video and frames only inside this directory.
    public var outputRoot: String
    /// CURVE keys and the worker allow-list; nil for none (loopback only, unless `insecure`).
    public var security: CurveServerSecurity?
    /// Bind beyond loopback without authentication (refused otherwise).
    public var insecure: Bool
    /// Stitch and encode a job once its tasks are committed (benchmarks of the farm alone turn it off).
    public var encodeOutputs = true
    /// Where the coordinator records what `/metrics` and `/healthz` serve; nil: nowhere.
    public var prometheus: PrometheusMetrics?
    /// Job notices over HTTP (webhooks); nil: none are sent, and a spec naming `notify_url` is refused.
    public var webhooks: WebhookSettings?
    /// Where operators on other threads (the HTTP API) post requests and read live state; nil: none.
    public var operatorChannel: OperatorChannel?

    public init(
        dataDirectory: String, bind: String = "tcp://127.0.0.1:5555", timings: SchedulerTimings = SchedulerTimings(),
        maxMessageBytes: Int64 = JobSpec.maxMessageBytes, outputRoot: String = FileManager.default.currentDirectoryPath,
        security: CurveServerSecurity? = nil, insecure: Bool = false
    ) {
        self.dataDirectory = dataDirectory
        self.bind = bind
        self.timings = timings
        self.maxMessageBytes = maxMessageBytes
        self.outputRoot = outputRoot
        self.security = security
        self.insecure = insecure
    }

    /// The file where a running coordinator writes the endpoint it actually bound.
    public var endpointFile: String { "\(dataDirectory)/coordinator.endpoint" }
}

/// The coordinator process's IO shell: one ROUTER socket (plus the ZAP handler's socket when
/// CURVE is on), the SQLite store, the artifact files and the encode threads. It feeds socket
/// traffic and time to the pure ``Scheduler`` and carries out the directives it returns.
/// Single-threaded: sockets and store are used only from the thread that calls ``run(until:)``.
public final class Coordinator {
    let options: CoordinatorOptions
    let logger: Logger
    let store: Store
    let artifacts: ArtifactStore
    let segments: SegmentAppender
    let checkpointer: WALCheckpointer
    let context = ZMQContext()
    let socket: ZMQSocket
    let authenticator: ZAPAuthenticator?
    var scheduler: Scheduler
    var plans: [Int64: LoadedJob] = [:]
    /// Wakes the loop's poll when the encode or the conditioning pool hands it something.
    let waker: LoopWaker
    let encoder: EncodeRunner
    let conditioning: ConditioningPool
    let webhooks: WebhookSender?
    /// Conditioning being built or built ahead, by task (``Coordinator/prepareAwaiting()``).
    var conditionings: [Int64: ConditioningEntry] = [:]
    /// Each worker's newest lease that carried conditioning, which is kept (decision 0038).
    var keptConditioning: [WorkerID: LeaseRef] = [:]
    var conditioningSerial = 0
    /// How many of `conditionings` each job has (its prepared limit is its own).
    var preparedByJob: [Int64: Int] = [:]
    /// Set while a job's first tasks are handed out, when it is submitted: a burst that fills
    /// every worker's slots and queue together, so its last task waits for all before it.
    var startingJob = false
    /// Jobs whose keyframe sets' commits release their first chunks (rolling mode): the tasks
    /// that fill the workers are the job's start too, until the first chunk result returns.
    var startingJobs: Set<Int64> = []
    /// Jobs that have had a chunk result since the coordinator loaded them: their start is
    /// over, and a keyframe set committed later does not begin it again.
    var startedJobs: Set<Int64> = []
    var droppedMessages = 0
    /// The routing id each worker id is bound to (by its READY), and back.
    var routes: [WorkerID: String] = [:]
    var peers: [String: WorkerID] = [:]
    var deferredCommits: [DeferredCommit] = []
    /// The group commit whose results ``segments`` is making durable.
    var committing: CommitGroup?
    var deferredDispatches: [DeferredDispatch] = []
    /// Leases whose tasks went out and that are not recorded yet: ``recordSentLeases()``
    /// records them before the loop polls again and before any task's row is written (decision 0040).
    var sentLeases: [(lease: LeaseRef, worker: WorkerID, expiresAt: Double)] = []
    /// Counts and timings of this coordinator's work (read after ``run(until:)`` returns).
    public internal(set) var metrics = CoordinatorMetrics()
    /// Job states the store could not record yet (a full disk); retried every tick.
    var unrecordedStates: [Int64: (state: JobState, reason: String?, checksums: OutputChecksums?)] = [:]
    var lastSpaceProbe = 0.0
    var lastGaugesPublished = -Double.infinity
    var lastSnapshotPublished = -Double.infinity
    /// What each live worker has done, for the operator's view.
    var workerTallies: [WorkerID: WorkerTally] = [:]
    /// The endpoint actually bound (a `*` port resolved).
    public let endpoint: String

    public init(options: CoordinatorOptions, logger: Logger) throws {
        self.options = options
        self.logger = logger
        let problems = options.timings.problems()
        guard problems.isEmpty else { throw ReelError(.usage, problems.joined(separator: "; ")) }
        if options.security == nil && !options.insecure && !Self.isLocal(options.bind) {
            throw ReelError(
                .usage,
                "refusing to bind \(options.bind) without authentication: pass --curve-secret and --allow-worker/--allow-submitter/--allow-admin (see `reel keys`), or --insecure on a trusted network"
            )
        }
        try ArtifactStore.makeDirectory(options.dataDirectory)
        store = try Store(path: "\(options.dataDirectory)/reel.sqlite")
        artifacts = try ArtifactStore(root: "\(options.dataDirectory)/artifacts")
        segments = try SegmentAppender(store: artifacts)
        waker = try LoopWaker()
        encoder = EncodeRunner(waker: waker)
        conditioning = ConditioningPool(waker: waker)
        checkpointer = try WALCheckpointer(store: store)
        scheduler = Scheduler(timings: options.timings)
        webhooks = options.webhooks.map { WebhookSender(settings: $0) }
        // The ZAP handler must be bound before the server socket binds.
        let context = self.context
        authenticator = try options.security.map { try ZAPAuthenticator(context: context, allowed: $0.allowedClients, logger: logger) }
        socket = try ZMQSocket(context, .router)
        try socket.setOption(ZMQOption.routerMandatory, 1)
        try socket.setOption64(ZMQOption.maxMessageSize, options.maxMessageBytes)
        try socket.setOption(ZMQOption.handshakeInterval, 5000)
        if let security = options.security { try socket.makeCurveServer(secretKey: security.secretKey) }
        do { try socket.bind(options.bind) } catch { throw ReelError(.network, "cannot bind \(options.bind): \(error)") }
        endpoint = try socket.lastEndpoint()
        let temporary = options.endpointFile + ".tmp"
        try endpoint.write(toFile: temporary, atomically: false, encoding: .utf8)
        rename(temporary, options.endpointFile)
        try restoreJobs()
    }

    /// Serves until `shouldStop` returns true (checked at least every 100 ms).
    public func run(until shouldStop: () -> Bool) throws {
        logger.info("coordinator listening on \(endpoint)\(options.security == nil ? "" : " (CURVE)"), data in \(options.dataDirectory)")
        if options.security == nil && !Self.isLocal(endpoint) {
            logger.warning(
                "listening beyond loopback with no authentication: anyone who can reach \(endpoint) can submit jobs or pose as a worker")
        }
        let sockets = [socket] + (authenticator.map { [$0.socket] } ?? [])
        let cpuAtStart = CoordinatorMetrics.processCPUSeconds()
        defer {
            metrics.cpuSeconds += CoordinatorMetrics.processCPUSeconds() - cpuAtStart
            metrics.encodeCPUSeconds = encoder.cpuSeconds
            checkpointer.stop()
            conditioning.stop()
            segments.stop()
        }
        while !shouldStop() {
            // A group commit made durable, a conditioning built and an encode ended each wake
            // the poll themselves, so it waits for the next message or timer (100 ms) otherwise.
            let wait = !plans.values.allSatisfy(\.isInserted) ? 0 : 100
            // The leases this turn sent, in one transaction after their tasks went out.
            recordSentLeases()
            let ready = try ZMQSocket.poll(sockets, descriptors: [segments.wakeDescriptor, waker.descriptor], timeoutMilliseconds: wait)
            if ready[ready.count - 1] { waker.drain() }
            metrics.eventTime = now()
            if sockets.count > 1, ready[1] { authenticator?.serve() }
            insertBacklog()
            if ready[0] {
                // Drain what is waiting, bounded (256 messages, 2 ms) so timers still run and
                // no result waits long behind others; then dispatch and commit the batch.
                for count in 1...256 {
                    guard count == 1 || now() - metrics.eventTime < 0.002, let message = try socket.receive(maxFrames: 4) else { break }
                    metrics.messagesReceived += 1
                    handle(message)
                    // Tasks go out every 16 messages, so the first worker of a burst does not
                    // wait for the whole burst; results are committed once, after the drain.
                    if count % 16 == 0 { dispatchDeferred() }
                }
                flush()
            }
            metrics.eventTime = now()
            publishGauges()
            serveOperators()
            execute(scheduler.handle(.tick, now: now()))
            collectConditioning()
            collectEncodes()
            collectWebhooks()
            retryUnrecordedStates()
            pruneRoutes()
            probeSpaceIfPaused()
            flush()
        }
        finishCommits()
        logger.info(
            "coordinator stopping; peak resident memory \(Int(ProcessMemory.megabytes("VmHWM") ?? -1)) MB; \(metrics.tasksCommitted) tasks committed in \(metrics.commitBatches) group commits"
        )
    }

    func now() -> Double { Date().timeIntervalSince1970 }

    /// Tells `/healthz` the loop turned, and refreshes the gauges at most once a second (one
    /// pass over the resident tasks).
    private func publishGauges() {
        guard let prometheus = options.prometheus else { return }
        let time = metrics.eventTime
        prometheus.loopTurned(at: time)
        guard time - lastGaugesPublished >= 1 || time < lastGaugesPublished else { return }
        lastGaugesPublished = time
        prometheus.publish(scheduler.gauges)
    }

    // MARK: Messages

    private func handle(_ message: ReceivedMessage) {
        guard message.frames.count >= 2, !message.truncated else {
            drop("message with \(message.frames.count) frame(s)\(message.truncated ? " (too many)" : "")", cause: .malformed)
            return
        }
        let routing = RoutingIdentity.key(message.frames[0])
        let decoded: WireMessage
        do { decoded = try WireCodec.decode(Array(message.frames.dropFirst())) } catch {
            drop("malformed message from \(routing.debugDescription): \(error)", cause: .malformed)
            return
        }
        let time = now()
        guard let caller = caller(message.userID) else { return drop("message from \(message.userID ?? "?"), which has no role", cause: .forbidden) }
        if decoded.isFromWorker && caller.role != .worker && options.security != nil {
            reply(routing, .disconnect(reason: "key '\(caller.name)' is allowed as \(caller.role.rawValue), not as a worker"))
            return drop("\(decoded.name) from \(caller.name), a \(caller.role.rawValue) key", cause: .forbidden)
        }
        if decoded.isFromClient && caller.role == .worker {
            reply(
                routing,
                .error(code: ReelError.Code.forbidden.rawValue, message: "key '\(caller.name)' is a worker key: it cannot submit, list or control jobs"))
            return drop("\(decoded.name) from \(caller.name), a worker key", cause: .forbidden)
        }
        switch decoded {
        case .ready(let hello):
            guard let id = bind(routing, hello: hello, user: message.userID, now: time) else { return }
            if workerTallies[id] == nil { workerTallies[id] = WorkerTally(joinedAt: time) }
            execute(scheduler.handle(.workerReady(id, hello), now: time))
        case .heartbeat(let progress, _):
            guard let id = peers[routing] else {
                reply(routing, .disconnect(reason: "unknown worker: send READY"))
                return
            }
            execute(scheduler.handle(.heartbeat(id, progress: progress), now: time))
        case .result(let result):
            guard let id = peers[routing] else { return drop("result for \(result.lease) from a peer that sent no READY", cause: .unknownPeer) }
            // Whether it answers a lease this worker holds, and its size, before any work on its bytes.
            guard let (job, unit) = scheduler.leaseHeld(by: id, result.lease), let entry = plans[job] else {
                execute(scheduler.handle(.resultArrived(id, result.lease), now: time))
                return
            }
            let expected = Planner.work(entry.spec, entry.plan, unit: unit).resultCount * 2
            guard result.latents.count == expected else {
                drop("result for \(result.lease) from \(id) holds \(result.latents.count) bytes, the task needs \(expected)", cause: .badResult)
                workerTallies[id]?.failures += 1
                execute(scheduler.handle(.taskFailed(id, result.lease, reason: "result of the wrong size"), now: time))
                return
            }
            guard Checksum.payload(result.latents) == result.checksum else {
                drop("result for \(result.lease) from \(id) fails its checksum", cause: .badResult)
                workerTallies[id]?.failures += 1
                execute(scheduler.handle(.taskFailed(id, result.lease, reason: "corrupt result"), now: time))
                return
            }
            // Only a verified task's vote compares digests: the others skip hashing their bytes.
            let digest =
                scheduler.isVerified(task: result.lease.task) ? SHA256.hash(data: result.latents).map { String(format: "%02x", $0) }.joined() : ""
            execute(scheduler.handle(.resultArrived(id, result.lease, digest: digest), now: time), payload: result)
        case .failed(let lease, let reason, let outOfMemory):
            guard let id = peers[routing] else { return drop("failure report for \(lease) from a peer that sent no READY", cause: .unknownPeer) }
            let reason = Self.bounded(reason)
            workerTallies[id]?.failures += 1
            execute(scheduler.handle(.taskFailed(id, lease, reason: reason, outOfMemory: outOfMemory), now: time))
        case .submit(let json):
            reply(routing, submit(json, by: caller))
        case .status(let job):
            reply(routing, status(job, for: caller))
        case .control(let job, let action):
            reply(routing, control(job, action, by: caller))
        case .disconnect(let reason):
            guard let id = peers[routing] else { return drop("goodbye from a peer that sent no READY", cause: .unknownPeer) }
            execute(scheduler.handle(.workerLeft(id, reason: Self.bounded(reason)), now: time))
        case .task, .ack, .revoke, .submitted, .statusReply, .error:
            drop("unexpected \(decoded.name) from \(routing.debugDescription)", cause: .unexpected)
        }
    }

    /// Binds a worker id to the routing id its READY came from: under CURVE the id is the
    /// authenticated key's name and the READY's name (`key/name`), on loopback the name alone
    /// (which may not contain `/`). A name another live connection holds is refused; a silent
    /// holder's name is taken over (a restarted worker). Returns nil when refused.
    private func bind(_ routing: String, hello: WorkerHello, user: String?, now: Double) -> WorkerID? {
        if user == nil && hello.name.contains("/") {
            reply(routing, .disconnect(reason: "a worker name may not contain '/'"))
            drop("READY with a name containing '/' from \(routing.debugDescription)", cause: .refused)
            return nil
        }
        let id = user.map { "\($0)/\(hello.name)" } ?? hello.name
        if let bound = routes[id], bound != routing {
            if scheduler.isHeard(id, now: now) {
                reply(routing, .disconnect(reason: "worker name \(id) is in use by another live connection"))
                drop("READY for \(id) from a second connection while the first is alive", cause: .refused)
                return nil
            }
            peers[bound] = nil
        }
        if let previous = peers[routing], previous != id { routes[previous] = nil }
        routes[id] = routing
        peers[routing] = id
        return id
    }

    /// Forgets the routes of workers the scheduler no longer knows (each tick, when there are any).
    func pruneRoutes() {
        guard routes.count > scheduler.workerCount else { return }
        for (id, routing) in routes where scheduler.lastSeen(id) == nil {
            routes[id] = nil
            peers[routing] = nil
            workerTallies[id] = nil
            keptConditioning[id] = nil
        }
    }

    /// Who a message is from: under CURVE its key's name and role; without CURVE the local
    /// user, who is admin. Nil for a key with no role (the ZAP handler lets none in).
    func caller(_ user: String?) -> Caller? {
        guard let security = options.security else { return Caller(name: Caller.local, role: .admin) }
        guard let user, let role = security.roles[user] else { return nil }
        return Caller(name: user, role: role)
    }

    /// A peer's text cut to 4 KiB before it is stored or logged.
    static func bounded(_ text: String, limit: Int = 4096) -> String {
        guard text.utf8.count > limit else { return text }
        return String(decoding: text.utf8.prefix(limit), as: UTF8.self) + "… (cut from \(text.utf8.count) bytes)"
    }

    func drop(_ reason: String, cause: DropCause) {
        droppedMessages += 1
        options.prometheus?.dropped(cause)
        logger.warning("dropped: \(reason)")
    }

    /// Sends to a worker by its id, through the routing id it is bound to.
    func send(_ peer: WorkerID, _ message: WireMessage) {
        send(peer, WireCodec.encode(message), name: message.name)
    }

    /// Sends a dispatched task, its conditioning as encoded beside the loop.
    func send(_ dispatch: DeferredDispatch) {
        send(dispatch.worker, WireCodec.encodeTask(dispatch.assignment, conditioning: dispatch.conditioning), name: "TASK")
    }

    private func send(_ peer: WorkerID, _ frames: @autoclosure () -> [[UInt8]], name: String) {
        guard let routing = routes[peer] else {
            logger.debug("\(name) to \(peer) not sent: no connection is bound to it")
            return
        }
        transmit(frames(), to: routing, name: name)
    }

    /// Sends to a connection by its routing id.
    func reply(_ routing: String, _ message: WireMessage) {
        transmit(WireCodec.encode(message), to: routing, name: message.name)
    }

    private func transmit(_ frames: [[UInt8]], to routing: String, name: String) {
        do {
            if try !socket.send([RoutingIdentity.bytes(routing)] + frames) {
                logger.warning("\(name) to \(routing.debugDescription) not sent: peer is not keeping up")
            }
        } catch {
            logger.debug("\(name) to \(routing.debugDescription) not sent: \(error)")
        }
    }

    static func isLocal(_ endpoint: String) -> Bool {
        ["tcp://127.", "tcp://localhost", "tcp://[::1]", "ipc://", "inproc://"].contains { endpoint.hasPrefix($0) }
    }
}
