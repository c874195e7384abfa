import Foundation
import Logging
import ReelCore
import ReelPlan
import ReelStore
import ReelWire
import ReelZMQ

/// How a coordinator is set up.
public struct CoordinatorOptions: Sendable {
    public var dataDirectory: String
    public var bind: String
    public var timings: SchedulerTimings
    /// Largest message a peer may send, enforced by libzmq before the bytes are read.
    public var maxMessageBytes: Int64

    public init(
        dataDirectory: String, bind: String = "tcp://127.0.0.1:5555", timings: SchedulerTimings = SchedulerTimings(),
        maxMessageBytes: Int64 = 1 << 30
    ) {
        self.dataDirectory = dataDirectory
        self.bind = bind
        self.timings = timings
        self.maxMessageBytes = maxMessageBytes
    }

    /// The file where a running coordinator writes the endpoint it actually bound.
    public var endpointFile: String { "\(dataDirectory)/coordinator.endpoint" }
}

/// The coordinator process's IO shell: one ROUTER socket, the SQLite store, the artifact
/// files and the encode threads. It feeds socket traffic and time to the pure ``Scheduler``
/// and carries out the directives it returns. Single-threaded: the socket and the store are
/// used only from the thread that calls ``run(until:)``.
public final class Coordinator {
    let options: CoordinatorOptions
    let logger: Logger
    let store: Store
    let artifacts: ArtifactStore
    let socket: ZMQSocket
    let context = ZMQContext()
    var scheduler: Scheduler
    var plans: [Int64: (spec: JobSpec, plan: Plan)] = [:]
    let encoder = EncodeRunner()
    var droppedMessages = 0
    /// The endpoint actually bound (a `*` port resolved).
    public let endpoint: String

    public init(options: CoordinatorOptions, logger: Logger) throws {
        self.options = options
        self.logger = logger
        try ArtifactStore.makeDirectory(options.dataDirectory)
        store = try Store(path: "\(options.dataDirectory)/reel.sqlite")
        artifacts = try ArtifactStore(root: "\(options.dataDirectory)/artifacts")
        scheduler = Scheduler(timings: options.timings)
        socket = try ZMQSocket(context, .router)
        try socket.setOption(ZMQOption.routerMandatory, 1)
        try socket.setOption64(ZMQOption.maxMessageSize, options.maxMessageBytes)
        try socket.setOption(ZMQOption.handshakeInterval, 5000)
        do { try socket.bind(options.bind) } catch {
            throw ReelError(.network, "cannot bind \(options.bind): \(error)")
        }
        endpoint = try socket.lastEndpoint()
        let temporary = options.endpointFile + ".tmp"
        try endpoint.write(toFile: temporary, atomically: false, encoding: .utf8)
        rename(temporary, options.endpointFile)
        try restoreJobs()
    }

    /// Serves until `shouldStop` returns true (checked at least every 100 ms).
    public func run(until shouldStop: () -> Bool) throws {
        logger.info("coordinator listening on \(endpoint), data in \(options.dataDirectory)")
        if !Self.isLocal(endpoint) {
            logger.warning(
                "listening beyond loopback with no authentication: anyone who can reach \(endpoint) can submit jobs or pose as a worker")
        }
        while !shouldStop() {
            if try socket.waitReadable(timeoutMilliseconds: 100) {
                // Drain what is waiting, bounded so timers still run under load.
                for _ in 0..<256 {
                    guard let message = try socket.receive(maxFrames: 4) else { break }
                    handle(message)
                }
            }
            execute(scheduler.handle(.tick, now: now()))
            collectEncodes()
        }
        logger.info("coordinator stopping; peak resident memory \(Self.peakResidentMegabytes() ?? -1) MB")
    }

    static func isLocal(_ endpoint: String) -> Bool {
        ["tcp://127.", "tcp://localhost", "tcp://[::1]", "ipc://", "inproc://"].contains { endpoint.hasPrefix($0) }
    }

    /// The process's peak resident set (VmHWM), in MB, where /proc is available.
    static func peakResidentMegabytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return nil }
        return kilobytes / 1024
    }

    func now() -> Double { Date().timeIntervalSince1970 }

    // MARK: Startup

    private func restoreJobs() throws {
        for job in try store.jobs() where job.state == .running || job.state == .encoding {
            let spec = try job.spec()
            let plan = Planner.plan(spec)
            plans[job.id!] = (spec, plan)
            let tasks = try store.tasks(job: job.id!)
            scheduler.addJob(
                job.id!,
                tasks: tasks.map { task in
                    (
                        task.id!, task.chunkIndex, ChunkWork(spec: spec, chunk: plan.chunks[task.chunkIndex]), task.state == .done,
                        UInt32(task.attempt), task.state == .leased ? task.worker : nil
                    )
                }, now: now())
            let done = tasks.filter { $0.state == .done }.count
            logger.info("resumed job \(job.id!) '\(job.name)': \(done)/\(tasks.count) chunks already committed")
            if done == tasks.count { startEncode(job.id!) }
        }
    }

    // MARK: Messages

    private func handle(_ message: ReceivedMessage) {
        guard message.frames.count >= 2, !message.truncated else {
            drop("message with \(message.frames.count) frame(s)\(message.truncated ? " (too many)" : "")")
            return
        }
        let peer = RoutingIdentity.key(message.frames[0])
        let decoded: WireMessage
        do { decoded = try WireCodec.decode(Array(message.frames.dropFirst())) } catch {
            drop("malformed message from \(peer.debugDescription): \(error)")
            return
        }
        let time = now()
        switch decoded {
        case .ready(let hello):
            execute(scheduler.handle(.workerReady(peer, hello), now: time))
        case .heartbeat:
            execute(scheduler.handle(.heartbeat(peer), now: time))
        case .result(let result):
            guard Checksum.fnv1a(result.latents) == result.checksum else {
                drop("result for \(result.lease) from \(peer) fails its checksum")
                execute(scheduler.handle(.taskFailed(peer, result.lease, reason: "corrupt result"), now: time))
                return
            }
            execute(scheduler.handle(.resultArrived(peer, result.lease), now: time), payload: result)
        case .failed(let lease, let reason):
            execute(scheduler.handle(.taskFailed(peer, lease, reason: reason), now: time))
        case .submit(let json):
            reply(peer, submit(json))
        case .status(let job):
            reply(peer, status(job))
        case .task, .ack, .disconnect, .submitted, .statusReply, .error:
            drop("unexpected \(decoded.name) from \(peer.debugDescription)")
        }
    }

    private func drop(_ reason: String) {
        droppedMessages += 1
        logger.warning("dropped: \(reason)")
    }

    private func send(_ peer: WorkerID, _ message: WireMessage) {
        do {
            if try !socket.send([RoutingIdentity.bytes(peer)] + WireCodec.encode(message)) {
                logger.warning("\(message.name) to \(peer) not sent: peer is not keeping up")
            }
        } catch {
            logger.debug("\(message.name) to \(peer) not sent: \(error)")
        }
    }

    private func reply(_ peer: WorkerID, _ message: WireMessage) { send(peer, message) }

    // MARK: Directives

    private func execute(_ directives: [SchedulerDirective], payload: TaskResult? = nil) {
        for directive in directives {
            switch directive {
            case .dispatch(let worker, let assignment, let expiresAt):
                do {
                    try store.recordLease(
                        task: assignment.lease.task, attempt: Int(assignment.lease.attempt), worker: worker,
                        expiresAt: expiresAt, now: now())
                    send(worker, .task(assignment))
                    logger.debug("dispatched \(assignment.lease) to \(worker)")
                } catch {
                    logger.error("cannot record the lease of \(assignment.lease): \(error)")
                }
            case .commit(let worker, let lease, let job, let chunk):
                guard let payload, payload.lease == lease else { continue }
                execute(
                    scheduler.handle(commit(worker: worker, lease: lease, job: job, chunk: chunk, latents: payload.latents), now: now()))
            case .requeue(let task, let reason):
                logger.info("requeued task \(task): \(reason)")
                do { try store.requeue(task: task, reason: reason, now: now()) } catch { logger.error("\(error)") }
            case .send(let worker, let message):
                send(worker, message)
            case .chunksComplete(let job):
                startEncode(job)
            case .failJob(let job, let reason):
                logger.error("job \(job) failed: \(reason)")
                do { try store.setJobState(job, .failed, reason: reason, now: now()) } catch { logger.error("\(error)") }
            case .ignored(let reason):
                drop(reason)
            case .log(let text):
                logger.info("\(text)")
            }
        }
    }

    /// Writes the artifact durably, then commits the row; the ACK goes out only after both.
    private func commit(worker: WorkerID, lease: LeaseRef, job: Int64, chunk: Int, latents: [UInt8]) -> SchedulerEvent {
        guard let entry = plans[job] else { return .commitFailed(lease, reason: "job \(job) is not loaded") }
        let region = entry.plan.chunks[chunk].region
        let expected = region.frames.count * entry.plan.grid.channels * region.rows.count * region.columns.count * 2
        guard latents.count == expected else {
            return .commitFailed(lease, reason: "result holds \(latents.count) bytes, chunk needs \(expected)")
        }
        let path = artifacts.chunkPath(job: job, stage: Store.chunkStage, chunk: chunk)
        do {
            try artifacts.write(latents, to: path)
            let committed = try store.commitResult(
                task: lease.task, attempt: Int(lease.attempt), worker: worker,
                checksum: Checksum.hex(Checksum.fnv1a(latents)), artifact: path, now: now())
            guard committed else { return .commitFailed(lease, reason: "the store no longer holds this lease") }
            return .committed(lease)
        } catch {
            return .commitFailed(lease, reason: "\(error)")
        }
    }

    // MARK: Encoding

    private func startEncode(_ job: Int64) {
        guard let entry = plans[job] else { return }
        do {
            try store.setJobState(job, .encoding, reason: nil, now: now())
            var paths: [Int: String] = [:]
            for task in try store.tasks(job: job) { paths[task.chunkIndex] = task.artifact }
            logger.info("job \(job): all \(entry.plan.chunks.count) chunks committed; stitching and encoding \(entry.spec.output)")
            encoder.start(job: job, spec: entry.spec, plan: entry.plan, artifacts: artifacts, paths: paths)
        } catch {
            logger.error("job \(job): cannot start encoding: \(error)")
        }
    }

    private func collectEncodes() {
        for finished in encoder.takeFinished() {
            encoder.forget(job: finished.job)
            do {
                switch finished.result {
                case .success(let outcome):
                    try store.setJobState(
                        finished.job, .done, reason: nil, now: now(),
                        latentChecksum: Checksum.hex(outcome.latentChecksum), frameChecksum: Checksum.hex(outcome.frameChecksum))
                    logger.info("job \(finished.job) done: \(outcome.frames) frames in \(plans[finished.job]?.spec.output ?? "?")")
                case .failure(let error):
                    try store.setJobState(finished.job, .failed, reason: error.description, now: now())
                    logger.error("job \(finished.job) failed while encoding: \(error)")
                }
            } catch {
                logger.error("cannot record the end of job \(finished.job): \(error)")
            }
        }
    }

    // MARK: Client requests

    private func submit(_ json: [UInt8]) -> WireMessage {
        do {
            let spec: JobSpec
            do { spec = try JSONCoding.decoder.decode(JobSpec.self, from: Data(json)) } catch {
                throw ReelError(.invalidSpec, "the submitted spec is not a valid job spec: \(error)")
            }
            let problems = JobSpecParser.problems(in: spec)
            guard problems.isEmpty else {
                throw ReelError(.invalidSpec, problems.map(\.description).joined(separator: "; "))
            }
            guard spec.output.hasPrefix("/") else {
                throw ReelError(.invalidSpec, "field 'output': must be an absolute path when submitted")
            }
            let plan = Planner.plan(spec)
            let job = try store.insertJob(spec: spec, plan: plan, now: now())
            plans[job.id!] = (spec, plan)
            let tasks = try store.tasks(job: job.id!)
            scheduler.addJob(
                job.id!,
                tasks: tasks.map { ($0.id!, $0.chunkIndex, ChunkWork(spec: spec, chunk: plan.chunks[$0.chunkIndex]), false, 0, nil) },
                now: now())
            logger.info("job \(job.id!) '\(spec.name)': \(plan.chunks.count) chunks, redundancy \(String(format: "%.3f", plan.redundancy))")
            return .submitted(job: job.id!)
        } catch let error as ReelError {
            return .error(code: error.code.rawValue, message: error.message)
        } catch {
            return .error(code: ReelError.Code.store.rawValue, message: "\(error)")
        }
    }

    private func status(_ job: Int64?) -> WireMessage {
        do {
            let records = try job.map { id in try store.job(id).map { [$0] } ?? [] } ?? store.jobs()
            if let job, records.isEmpty { return .error(code: ReelError.Code.notFound.rawValue, message: "no job \(job)") }
            let jobs = try records.map { record -> StatusReport.Job in
                let counts = try store.taskCounts(job: record.id!)
                let total = counts.values.reduce(0, +)
                let frames = (try? record.spec().frameCount) ?? 0
                let encoded = record.state == .done ? frames : (encoder.framesEncoded(job: record.id!) ?? 0)
                return StatusReport.Job(
                    id: record.id!, name: record.name, state: record.state.rawValue, reason: record.reason,
                    output: record.output, chunksDone: counts[.done] ?? 0, chunksTotal: total,
                    framesEncoded: encoded, framesTotal: frames, createdAt: record.createdAt,
                    updatedAt: record.updatedAt, latentChecksum: record.latentChecksum, frameChecksum: record.frameChecksum)
            }
            let report = StatusReport(jobs: jobs, workers: scheduler.workerLoads, droppedMessages: droppedMessages)
            return .statusReply(json: Array(try JSONCoding.encoder.encode(report)))
        } catch {
            return .error(code: ReelError.Code.store.rawValue, message: "\(error)")
        }
    }
}
