import Foundation
import ReelCore
import ReelPlan
import ReelStitch
import ReelStore
import ReelWire

/// Jobs: loading on restart, submission, status, control, encoding.
extension Coordinator {
    func restoreJobs() throws {
        for job in try store.jobs() where [.running, .paused, .encoding].contains(job.state) {
            try load(job)
            let (done, total) = scheduler.progress(job: job.id!)!
            logger.info("resumed job \(job.id!) '\(job.name)' (\(job.state.rawValue)): \(done)/\(total) chunks already committed")
            if job.state == .running { execute(scheduler.startEncoding(job.id!)) }
        }
    }

    /// Puts a stored job into the scheduler: its committed outputs' locations, and its first
    /// page of uncommitted tasks plus every leased one; the rest is paged in as tasks commit.
    private func load(_ job: JobRecord, plan known: Plan? = nil) throws {
        let id = job.id!
        let spec = try job.spec()
        let plan = known ?? Planner.plan(spec)
        guard let span = try store.taskSpan(job: id), span.last - span.first + 1 == Int64(plan.units.count) else {
            throw ReelError(.store, "job \(id): the store's tasks do not match its plan of \(plan.units.count) units")
        }
        // Rows go in in unit order after the first batch and the last unit's: the prefix is
        // every row but the last, until the last batch reaches it.
        let inserted = span.count == plan.units.count ? span.count : span.count - 1
        let entry = LoadedJob(
            spec: spec, plan: plan, index: ArtifactIndex(count: plan.units.count), firstTask: span.first, insertedUnits: inserted)
        try store.forEachCommittedArtifact(job: id) { task, artifact in
            guard let unit = entry.unit(of: task) else { return }
            entry.index[unit] = ArtifactLocation(artifact)
        }
        plans[id] = entry
        let counts = try store.taskCounts(job: id)
        let first = try page(of: entry, after: -1, limit: options.timings.residentTasks)
        let leased = try store.leasedTasks(job: id).map { try storedTask($0, of: entry) }
        scheduler.addJob(
            id, priority: spec.dispatchPriority, owner: job.owner, state: job.state, pausedForSpace: job.reason?.hasPrefix("disk full") == true,
            tasks: first.tasks + leased, total: plan.units.count, remaining: plan.units.count - (counts[.done] ?? 0), through: first.through,
            allLoaded: first.allLoaded, now: now())
        // The encode runs beside the render, from the first frame (after a restart too).
        if [.running, .paused, .encoding].contains(job.state) { startEncode(id) }
    }

    /// Up to `limit` of a job's uncommitted tasks after position `after` of its page order, as
    /// the scheduler takes them: the last position the page covers, and whether none is left
    /// beyond it. A page ends before the first unit whose row is not inserted yet.
    private func page(of entry: LoadedJob, after: Int64, limit: Int) throws -> (
        tasks: [StoredTask], through: Int64, allLoaded: Bool
    ) {
        var records: [TaskRecord] = []
        var next = Int(max(after + 1, 0))
        while records.count < limit {
            var ids: [Int64] = []
            while next < entry.pageOrder.count && ids.count < limit - records.count {
                let unit = Int(entry.pageOrder[next])
                guard entry.isInserted(unit: unit) else { break }
                ids.append(entry.firstTask + Int64(unit))
                next += 1
            }
            if ids.isEmpty { break }
            records += try store.openTasks(ids: ids)
        }
        return (try records.map { try storedTask($0, of: entry) }, Int64(next) - 1, next == entry.pageOrder.count)
    }

    /// A task row as the scheduler takes it; throws when the row is not its plan's unit.
    private func storedTask(_ record: TaskRecord, of entry: LoadedJob) throws -> StoredTask {
        guard let unit = entry.unit(of: record.id!), entry.plan.unit(of: record) == unit else {
            throw ReelError(
                .store, "task \(record.id!) (\(record.stage) \(record.chunkIndex)) is not unit \(record.id! - entry.firstTask) of its plan")
        }
        return StoredTask(
            id: record.id!, position: Int64(entry.pagePosition[unit]), chunk: unit, work: Planner.work(entry.spec, entry.plan, unit: unit),
            done: record.state == .done,
            attempt: UInt32(record.attempt), leasedTo: record.state == .leased ? record.worker : nil,
            dependencies: entry.plan.units[unit].dependencies.map { entry.firstTask + Int64($0) }, stage: entry.plan.units[unit].stage)
    }

    /// Pages in the tasks the scheduler asks for; a page that cannot be read is asked for again later.
    func loadWantedPages() {
        for request in scheduler.wantedPages() {
            guard let entry = plans[request.job] else { continue }
            do {
                let next = try page(of: entry, after: request.after, limit: request.count)
                execute(scheduler.addTasks(next.tasks, job: request.job, through: next.through, allLoaded: next.allLoaded, now: now()))
            } catch {
                logger.error("cannot page in tasks of job \(request.job): \(error)")
            }
        }
    }

    /// Submits a job from inside the coordinator's process (benchmarks); call it on the thread
    /// that runs ``run(until:)``, e.g. from its `shouldStop` closure.
    public func submit(_ spec: JobSpec) throws -> Int64 {
        let reply = submit(Array(try JSONCoding.encoder.encode(spec)), by: Caller(name: Caller.local, role: .admin))
        switch reply {
        case .submitted(let job):
            flush()
            return job
        case .error(let code, let message): throw ReelError(ReelError.Code(rawValue: code) ?? .store, message)
        default: throw ReelError(.store, "unexpected reply \(reply.name)")
        }
    }

    /// Workers connected now.
    public var workerCount: Int { scheduler.workerCount }

    /// A job's state: the scheduler's while it is loaded, else the store's.
    public func state(job: Int64) -> JobState? {
        scheduler.state(job: job) ?? (try? store.job(job))?.state
    }

    /// Frames of `job` its running encode has written to ffmpeg (nil when none runs).
    public func framesEncoded(job: Int64) -> Int? { encoder.framesEncoded(job: job) }

    /// Whether every task of `job` is committed (or the job stopped).
    public func tasksFinished(job: Int64) -> Bool {
        guard let state = scheduler.state(job: job) else { return true }
        return state != .running && state != .paused
    }

    func submit(_ json: [UInt8], by caller: Caller) -> WireMessage {
        do {
            var spec: JobSpec
            do { spec = try JSONCoding.decoder.decode(JobSpec.self, from: Data(json)) } catch {
                throw ReelError(.invalidSpec, "the submitted spec is not a valid job spec: \(error)")
            }
            let problems = JobSpecParser.problems(in: spec)
            guard problems.isEmpty else { throw ReelError(.invalidSpec, problems.map(\.description).joined(separator: "; ")) }
            if let url = spec.notifyURL {
                let problem = options.webhooks.map { $0.problem(with: url) } ?? "this coordinator sends no notices (start it with --notify-allow-host)"
                if let problem { throw ReelError(.invalidSpec, SpecProblem(field: "notify_url", problem: problem).description) }
            }
            spec.output = try OutputRoot.confine(spec.output, field: "output", root: options.outputRoot)
            spec.pngDirectory = try spec.pngDirectory.map { try OutputRoot.confine($0, field: "png_dir", root: options.outputRoot) }
            let plan = Planner.plan(spec)
            // Enough rows that the start fills every worker's slots and queue (prefetch hands out
            // queued tasks only while more are ready than there are workers).
            let firstUnits = max(Self.firstInsert, scheduler.leaseCapacity + scheduler.workerCount + 1)
            let job = try store.insertJob(spec: spec, plan: plan, owner: caller.name, firstUnits: firstUnits, now: now())
            try load(job, plan: plan)
            // Dispatch at once rather than at the next tick.
            metrics.eventTime = now()
            // The job's first tasks, one to every idle worker at once, are its start: measured apart.
            startingJob = true
            execute(scheduler.handle(.tick, now: now()))
            dispatchDeferred()
            startingJob = false
            logger.info("job \(job.id!) '\(spec.name)': \(plan.chunks.count) chunks, redundancy \(String(format: "%.3f", plan.redundancy))")
            return .submitted(job: job.id!)
        } catch let error as ReelError {
            return .error(code: error.code.rawValue, message: error.message)
        } catch {
            return .error(code: ReelError.Code.store.rawValue, message: "\(error)")
        }
    }

    /// Task rows a new job goes into the store with, at least (the rest follow in the loop).
    static let firstInsert = 512

    /// Inserts large jobs' next task rows, in one transaction of at most 5 ms a loop, so the
    /// coordinator keeps serving while a 250,000-task job goes in; the scheduler pages the
    /// new rows in as it needs them. Resumed after a restart (the rows say how far it got).
    func insertBacklog() {
        guard let (job, entry) = plans.filter({ !$0.value.isInserted }).min(by: { $0.key < $1.key }) else { return }
        let total = entry.plan.units.count
        let started = now()
        do {
            let inserted = try store.insertTasks(
                job: job, plan: entry.plan, first: entry.firstTask, units: entry.insertedUnits..<total, now: started,
                deadline: started + 0.005)
            plans[job]?.insertedUnits = inserted
            if inserted == total { logger.info("job \(job): all \(total) tasks are in the store") }
        } catch {
            logger.error("cannot insert job \(job)'s tasks from \(entry.insertedUnits) yet: \(error)")
        }
    }

    func control(_ job: Int64, _ action: JobControl, by caller: Caller) -> WireMessage {
        do {
            guard let record = try store.job(job), caller.sees(record) else {
                return .error(code: ReelError.Code.notFound.rawValue, message: "no job \(job)")
            }
            if scheduler.state(job: job) == nil {
                guard record.state.isResumable else {
                    return .error(
                        code: ReelError.Code.usage.rawValue, message: "cannot \(action.rawValue) job \(job): it is \(record.state.rawValue)"
                    )
                }
                try load(record)
            }
            let directives = scheduler.handle(.control(job: job, action), now: now())
            if case .ignored(let why) = directives.first {
                return .error(code: ReelError.Code.usage.rawValue, message: "cannot \(action.rawValue) job \(job): \(why)")
            }
            execute(directives)
            return status(job, for: caller)
        } catch {
            return .error(code: ReelError.Code.store.rawValue, message: "\(error)")
        }
    }

    /// The jobs `caller` may see (one, or all of them), and the workers when it is admin.
    func status(_ job: Int64?, for caller: Caller) -> WireMessage {
        do {
            let records = try (job.map { id in try store.job(id).map { [$0] } ?? [] } ?? store.jobs()).filter(caller.sees)
            if let job, records.isEmpty { return .error(code: ReelError.Code.notFound.rawValue, message: "no job \(job)") }
            let jobs = try records.map { record -> StatusReport.Job in
                let counts = try store.taskCounts(job: record.id!)
                let frames = (try? record.spec().frameCount) ?? 0
                let unrecorded = unrecordedStates[record.id!]
                let state = unrecorded?.state ?? record.state
                let encoded = state == .done ? frames : (encoder.framesEncoded(job: record.id!) ?? 0)
                return StatusReport.Job(
                    id: record.id!, name: record.name, state: state.rawValue,
                    reason: unrecorded?.reason ?? record.reason ?? scheduler.waitingReason(job: record.id!),
                    output: record.output, chunksDone: counts[.done] ?? 0,
                    chunksTotal: plans[record.id!]?.plan.units.count ?? counts.values.reduce(0, +),
                    framesEncoded: encoded, framesTotal: frames, createdAt: record.createdAt, updatedAt: record.updatedAt,
                    latentChecksum: record.latentChecksum, frameChecksum: record.frameChecksum)
            }
            let report = StatusReport(
                jobs: jobs, workers: caller.role == .admin ? scheduler.workerLoads : [:], droppedMessages: droppedMessages)
            return .statusReply(json: Array(try JSONCoding.encoder.encode(report)))
        } catch {
            return .error(code: ReelError.Code.store.rawValue, message: "\(error)")
        }
    }

    // MARK: Encoding

    /// Starts the job's encode unless it runs already: it streams frames into ffmpeg as the
    /// units covering them commit (``EncodeRunner``).
    func startEncode(_ job: Int64) {
        guard options.encodeOutputs, let entry = plans[job], !encoder.isRunning(job: job) else { return }
        logger.info("job \(job): encoding \(entry.spec.output) as its frames are committed (watch \(FFmpegEncoder.liveName(of: entry.spec.output)))")
        encoder.start(jobArtifacts(job)!, root: (options.outputRoot as NSString).resolvingSymlinksInPath)
    }

    func collectEncodes() {
        for finished in encoder.takeFinished() {
            guard let result = finished.result else {
                if let report = finished.consistency, let json = try? JSONCoding.encoder.encode(report) {
                    do { try store.recordConsistency(job: finished.job, json: String(decoding: json, as: UTF8.self), now: now()) } catch {
                        logger.error("cannot record the consistency of job \(finished.job): \(error)")
                    }
                }
                continue
            }
            encoder.forget(job: finished.job)
            switch result {
            case .success(let outcome):
                logger.info("job \(finished.job): \(outcome.frames) frames encoded")
                let checksums = OutputChecksums(latents: Checksum.hex(outcome.latentChecksum), frames: Checksum.hex(outcome.frameChecksum))
                execute(scheduler.handle(.encodeFinished(job: finished.job, checksums), now: now()))
            case .failure(let error):
                execute(scheduler.handle(.encodeFailed(job: finished.job, reason: error.message, diskFull: error.code == .diskFull), now: now()))
            }
        }
    }
}

/// Keeps spec-chosen paths inside the coordinator's output root.
enum OutputRoot {
    /// The absolute, normalized `path` if it lies inside `root` (symlinks resolved), else an
    /// `invalid-spec` error naming `field`.
    static func confine(_ path: String, field: String, root: String) throws -> String {
        let rootReal = (root as NSString).resolvingSymlinksInPath
        let absolute = path.hasPrefix("/") ? path : "\(rootReal)/\(path)"
        let normalized = (absolute as NSString).standardizingPath
        // Resolve symlinks in the longest existing ancestor, so a link cannot lead outside.
        var existing = normalized
        var rest: [String] = []
        while !FileManager.default.fileExists(atPath: existing) && existing != "/" {
            rest.insert((existing as NSString).lastPathComponent, at: 0)
            existing = (existing as NSString).deletingLastPathComponent
        }
        let resolved = ([(existing as NSString).resolvingSymlinksInPath] + rest).joined(separator: "/")
        let inside = rootReal == "/" || resolved.hasPrefix(rootReal + "/")
        guard inside else {
            throw ReelError(.invalidSpec, "field '\(field)': must be inside the coordinator's output root \(rootReal) (got \(path))")
        }
        return resolved
    }
}
