import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ReelCoordinator
import ReelCore
import ReelStore
import ReelWire

/// Jobs: submit, list, show, control, events, chunk map, output.
extension APIHandlers {
    func submit(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let principal = try principal(request, changing: true)
        guard let identity = principal.identity else {
            throw APIRefusal.forbidden("token '\(principal.name)' is a viewer: it cannot submit")
        }
        var request = request
        let body: ByteBuffer
        do { body = try await request.collectBody(upTo: SpecBody.maxBytes) } catch is NIOTooManyBytesError {
            throw APIRefusal(status: .contentTooLarge, code: "too-large", message: "the body is over \(SpecBody.maxBytes) bytes")
        }
        let spec: JobSpec
        switch SpecBody.read(Array(buffer: body), contentType: request.headers[.contentType], base: options.workingDirectory) {
        case .success(let read): spec = read
        case .failure(let failure): throw Self.invalidSpec(failure.problems)
        }
        let json = Array(try JSONCoding.encoder.encode(spec))
        switch await channel.ask(.submit(json: json), as: identity) {
        case .submitted(let job):
            var response = Self.json(CreatedBody(id: job), status: .created)
            response.headers[.location] = "/v1/jobs/\(job)"
            return response
        case .error(let code, let message): throw Self.refusal(code: code, message: message)
        default: throw APIRefusal(status: .internalServerError, code: "internal", message: "unexpected answer from the coordinator")
        }
    }

    func listJobs(_ request: Request) throws -> Response {
        let principal = try principal(request)
        let after = try Self.integer(request, "after", in: 0...Int64.max, default: 0)
        let limit = Int(try Self.integer(request, "limit", in: 1...500, default: 100))
        let records = try reader.jobs(after: after, limit: limit + 1, owner: principal.role == .submitter ? principal.name : nil)
        let snapshot = channel.snapshot
        let page = try records.prefix(limit).map { try view($0, snapshot: snapshot) }
        return Self.json(JobListBody(jobs: page, next: records.count > limit ? page.last?.id : nil))
    }

    func showJob(_ request: Request, _ context: BasicRequestContext) throws -> Response {
        let principal = try principal(request)
        return Self.json(try view(try visibleJob(context, for: principal), snapshot: channel.snapshot))
    }

    func control(_ action: JobControl, _ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let principal = try principal(request, changing: true)
        let job = try visibleJob(context, for: principal)
        guard let identity = principal.identity, principal.controls(job) else {
            throw APIRefusal.forbidden("token '\(principal.name)' (\(principal.role.rawValue)) cannot \(action.rawValue) job \(job.id!)")
        }
        switch await channel.ask(.control(job: job.id!, action), as: identity) {
        case .statusReply:
            return Self.json(try view(try reader.job(job.id!) ?? job, snapshot: channel.snapshot))
        case .error(let code, let message): throw Self.refusal(code: code, message: message)
        default: throw APIRefusal(status: .internalServerError, code: "internal", message: "unexpected answer from the coordinator")
        }
    }

    func jobEvents(_ request: Request, _ context: BasicRequestContext) throws -> Response {
        let job = try visibleJob(context, for: try principal(request))
        let after = try Self.integer(request, "after", in: 0...Int64.max, default: 0)
        let limit = Int(try Self.integer(request, "limit", in: 1...1000, default: 100))
        let events = try reader.events(job: job.id!, after: after, limit: limit + 1)
        let page = events.prefix(limit).map(Self.view)
        return Self.json(EventPageBody(events: page, next: events.count > limit ? page.last?.id : nil))
    }

    func chunkMap(_ request: Request, _ context: BasicRequestContext) throws -> Response {
        let job = try visibleJob(context, for: try principal(request))
        let plan = try plans.plan(of: job)
        let chunks = plan.chunks
        let cells = try reader.tasks(job: job.id!, stage: TaskStage.chunks.rawValue).compactMap { task -> ChunkMapBody.Cell? in
            guard chunks.indices.contains(task.chunkIndex) else { return nil }
            let chunk = chunks[task.chunkIndex]
            return ChunkMapBody.Cell(
                task: task.id!, chunk: task.chunkIndex, window: chunk.window, tile: chunk.tile, state: Self.cellState(task),
                worker: task.state == .leased ? task.worker : nil, attempt: task.attempt)
        }
        return Self.json(
            ChunkMapBody(windows: plan.windows.count, tileRows: plan.tileRows.count, tileColumns: plan.tileColumns.count, cells: cells))
    }

    func preview(_ request: Request, _ context: BasicRequestContext) throws -> Response {
        let job = try visibleJob(context, for: try principal(request))
        let plan = try plans.plan(of: job)
        let text = context.parameters.get("chunk") ?? ""
        guard let chunk = Int(text), plan.chunks.indices.contains(chunk) else {
            throw APIRefusal.notFound("job \(job.id!) has no chunk '\(text.prefix(40))'")
        }
        guard let task = try reader.task(job: job.id!, stage: TaskStage.chunks.rawValue, index: chunk), task.state == .done,
            let artifact = task.artifact, let location = ArtifactLocation(artifact)
        else { throw APIRefusal.notFound("chunk \(chunk) of job \(job.id!) is not committed yet") }
        let image = try previews.png(job: job.id!, spec: try job.spec(), plan: plan, chunk: chunk, location: location)
        return Response(
            status: .ok, headers: [.contentType: "image/png", .cacheControl: "private, max-age=60"],
            body: .init(byteBuffer: ByteBuffer(bytes: image)))
    }

    /// pending, leased, done, failed (back in the queue after an attempt) or rerun (done after more than one attempt).
    static func cellState(_ task: TaskRecord) -> String {
        switch task.state {
        case .pending: task.attempt > 0 ? "failed" : "pending"
        case .leased: "leased"
        case .done: task.attempt > 1 ? "rerun" : "done"
        }
    }

    func output(_ request: Request, _ context: BasicRequestContext) throws -> Response {
        let job = try visibleJob(context, for: try principal(request))
        guard job.state == .done else {
            throw APIRefusal(
                status: .conflict, code: "conflict", message: "job \(job.id!) is \(job.state.rawValue): its video is served once it is done"
            )
        }
        guard let handle = FileHandle(forReadingAtPath: job.output) else {
            throw APIRefusal.notFound("job \(job.id!)'s video \(job.output) is gone")
        }
        let size = Int((try? handle.seekToEnd()) ?? 0)
        var headers: HTTPFields = [.contentType: "video/mp4", .acceptRanges: "bytes"]
        let range: ClosedRange<Int>
        let status: HTTPResponse.Status
        switch ByteRange.parse(request.headers[.range], size: size) {
        case .whole:
            range = 0...max(0, size - 1)
            status = .ok
        case .part(let part):
            range = part
            status = .partialContent
            headers[.contentRange] = "bytes \(part.lowerBound)-\(part.upperBound)/\(size)"
        case .unsatisfiable:
            try? handle.close()
            headers[.contentRange] = "bytes */\(size)"
            return Response(status: .rangeNotSatisfiable, headers: headers)
        }
        let length = size == 0 ? 0 : range.count
        headers[.contentLength] = String(length)
        return Response(
            status: status, headers: headers,
            body: ResponseBody(contentLength: length) { writer in
                defer { try? handle.close() }
                try handle.seek(toOffset: UInt64(range.lowerBound))
                var left = length
                while left > 0 {
                    let piece = try handle.read(upToCount: min(left, 256 * 1024)) ?? Data()
                    guard !piece.isEmpty else { break }
                    try await writer.write(ByteBuffer(bytes: piece))
                    left -= piece.count
                }
                try await writer.finish(nil)
            })
    }

    // MARK: Views

    /// A job as the API shows it: the store's record, with the loop's live state when loaded.
    func view(_ job: JobRecord, snapshot: LiveSnapshot) throws -> JobView {
        let live = snapshot.jobs[job.id!]
        let state = live?.state ?? job.state
        let counts = try reader.stageCounts(job: job.id!)
        let framesTotal = (try? job.spec().frameCount) ?? 0
        let framesEncoded = state == .done ? framesTotal : min(framesTotal, live?.framesEncoded ?? 0)
        var stages = TaskStage.allCases.compactMap { stage -> StageView? in
            guard let states = counts[stage.rawValue] else { return nil }
            return StageView(name: stage.rawValue, done: states[.done] ?? 0, total: states.values.reduce(0, +))
        }
        stages.append(StageView(name: "encode", done: framesEncoded, total: framesTotal))
        let tasksDone = stages.dropLast().reduce(0) { $0 + $1.done }, tasksTotal = stages.dropLast().reduce(0) { $0 + $1.total }
        // The encode counts as one more task.
        let progress =
            state == .done
            ? 1 : (Double(tasksDone) + (framesTotal > 0 ? Double(framesEncoded) / Double(framesTotal) : 0)) / Double(tasksTotal + 1)
        var eta: Double?
        let elapsed = snapshot.at - job.createdAt
        if state == .running || state == .encoding, progress > 0.01, elapsed > 0 { eta = elapsed * (1 - progress) / progress }
        let consistency = job.consistencyJSON.flatMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
        return JobView(
            id: job.id!, name: job.name, owner: job.owner, state: state.rawValue, reason: live?.reason ?? job.reason,
            createdAt: job.createdAt, updatedAt: job.updatedAt, progress: progress, etaSeconds: eta, stages: stages,
            framesEncoded: framesEncoded, framesTotal: framesTotal, latentChecksum: job.latentChecksum, frameChecksum: job.frameChecksum,
            consistency: consistency, outputURL: state == .done ? "/v1/jobs/\(job.id!)/output" : nil)
    }

    static func view(_ event: EventRecord) -> EventView {
        EventView(id: event.id ?? 0, job: event.jobId, task: event.taskId, at: event.at, kind: event.kind, detail: event.detail)
    }

    // MARK: Errors

    static func invalidSpec(_ problems: [SpecProblem]) -> APIRefusal {
        APIRefusal(
            status: .badRequest, code: ReelError.Code.invalidSpec.rawValue,
            message: "the spec has \(problems.count) problem(s): " + problems.map(\.description).joined(separator: "; "),
            problems: problems.map { FieldProblem(field: $0.field, problem: $0.problem) })
    }

    /// A coordinator's ERROR as the API's answer.
    static func refusal(code: String, message: String) -> APIRefusal {
        switch ReelError.Code(rawValue: code) {
        case .invalidSpec:
            // "field 'X': problem" parts, as the coordinator joins them.
            let problems = message.components(separatedBy: "; ").map { part -> FieldProblem in
                guard part.hasPrefix("field '"), let end = part.range(of: "': ") else { return FieldProblem(field: "spec", problem: part) }
                return FieldProblem(
                    field: String(part[part.index(part.startIndex, offsetBy: 7)..<end.lowerBound]), problem: String(part[end.upperBound...])
                )
            }
            return APIRefusal(status: .badRequest, code: code, message: message, problems: problems)
        case .notFound: return APIRefusal(status: .notFound, code: code, message: message)
        case .usage: return APIRefusal(status: .conflict, code: "conflict", message: message)
        case .forbidden: return APIRefusal(status: .forbidden, code: code, message: message)
        case .busy, .diskFull: return APIRefusal(status: .serviceUnavailable, code: code, message: message)
        default: return APIRefusal(status: .internalServerError, code: code, message: message)
        }
    }
}
