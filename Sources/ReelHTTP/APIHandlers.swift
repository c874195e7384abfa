import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ReelCoordinator
import ReelCore
import ReelPlan
import ReelStore
import Synchronization

/// The API's routes and what each does. Every handler reads the store on its own read-only
/// connection and the loop's snapshot; changes go to the loop through the ``OperatorChannel``.
final class APIHandlers: Sendable {
    let options: APIServerOptions
    let channel: OperatorChannel
    let reader: StoreReader
    let authenticator: APIAuthenticator
    let plans: PlanCache
    let previews: PreviewCache
    let logger: Logger
    /// Live-feed connections open now (bounded by ``maxFeeds``).
    let feeds = Atomic<Int>(0)
    /// Set when the server stops: the live feeds end, so a graceful shutdown does not wait on them.
    let closing = Atomic<Bool>(false)
    static let maxFeeds = 32
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    init(options: APIServerOptions, channel: OperatorChannel, logger: Logger) throws {
        self.options = options
        self.channel = channel
        self.logger = logger
        reader = try StoreReader(path: "\(options.dataDirectory)/reel.sqlite")
        authenticator = APIAuthenticator(reader: reader)
        plans = PlanCache()
        previews = PreviewCache(artifactsRoot: "\(options.dataDirectory)/artifacts")
    }

    func close() { closing.store(true, ordering: .relaxed) }

    func register(on router: Router<BasicRequestContext>) {
        router.get("/healthz") { _, _ in self.health() }
        router.get("/metrics") { _, _ in self.metricsText() }
        router.get("/v1/openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
        Dashboard.register(on: router)
        router.post("/v1/session") { request, _ in await self.respond { try self.openSession(request) } }
        router.get("/v1/session") { request, _ in
            await self.respond {
                let principal = try self.principal(request)
                return Self.json(["name": principal.name, "role": principal.role.rawValue])
            }
        }
        router.delete("/v1/session") { _, _ in self.closeSession() }
        router.post("/v1/jobs") { request, context in await self.respond { try await self.submit(request, context) } }
        router.get("/v1/jobs") { request, _ in await self.respond { try self.listJobs(request) } }
        router.get("/v1/jobs/{id}") { request, context in await self.respond { try self.showJob(request, context) } }
        for action in JobControl.allCases {
            router.post("/v1/jobs/{id}/\(action.rawValue)") { request, context in
                await self.respond { try await self.control(action, request, context) }
            }
        }
        router.get("/v1/jobs/{id}/events") { request, context in await self.respond { try self.jobEvents(request, context) } }
        router.get("/v1/jobs/{id}/chunks") { request, context in await self.respond { try self.chunkMap(request, context) } }
        router.get("/v1/jobs/{id}/chunks/{chunk}/preview.png") { request, context in
            await self.respond { try self.preview(request, context) }
        }
        router.get("/v1/jobs/{id}/output") { request, context in await self.respond { try self.output(request, context) } }
        router.get("/v1/workers") { request, _ in await self.respond { try self.listWorkers(request) } }
        router.get("/v1/events") { request, _ in await self.respond { try self.liveFeed(request) } }
    }

    // MARK: Answers

    /// Runs a handler, turning a refusal into its error body and anything else into a 500
    /// that is logged.
    func respond(_ body: () async throws -> Response) async -> Response {
        do { return try await body() } catch let refusal as APIRefusal {
            var error = ErrorBody(error: refusal.code, message: refusal.message)
            if !refusal.problems.isEmpty { error.problems = refusal.problems }
            var response = Self.json(error, status: refusal.status)
            if refusal.status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer realm=\"reel\"" }
            return response
        } catch {
            logger.error("API request failed: \(error)")
            return Self.json(ErrorBody(error: "internal", message: "\(error)"), status: .internalServerError)
        }
    }

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    func health() -> Response {
        let published = channel.snapshot.at
        guard published > 0 else { return Self.json(["status": "starting"], status: .serviceUnavailable) }
        let healthy = Date().timeIntervalSince1970 - published < 30
        return Self.json(["status": healthy ? "ok" : "stuck"], status: healthy ? .ok : .serviceUnavailable)
    }

    func metricsText() -> Response {
        guard let metrics = options.metrics else {
            return Self.json(ErrorBody(error: "not-found", message: "metrics are off"), status: .notFound)
        }
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: metrics.exposition())))
    }

    // MARK: Who asks

    func principal(_ request: Request, changing: Bool = false) throws -> APIPrincipal {
        try authenticator.principal(of: request.headers, changing: changing)
    }

    /// The job named by the path, if `principal` may read it (another submitter's job is not found).
    func visibleJob(_ context: BasicRequestContext, for principal: APIPrincipal) throws -> JobRecord {
        let text = context.parameters.get("id") ?? ""
        guard let id = Int64(text), id > 0 else { throw APIRefusal.notFound("no job '\(text.prefix(40))'") }
        guard let job = try reader.job(id), principal.reads(job) else { throw APIRefusal.notFound("no job \(id)") }
        return job
    }

    /// An integer query parameter within `range`, or `fallback` when absent.
    static func integer(_ request: Request, _ name: String, in range: ClosedRange<Int64>, default fallback: Int64) throws -> Int64 {
        guard let text = request.uri.queryParameters[Substring(name)] else { return fallback }
        guard let value = Int64(text), range.contains(value) else {
            throw APIRefusal.badRequest("query parameter '\(name)' must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    func openSession(_ request: Request) throws -> Response {
        guard request.headers[.authorization] != nil else {
            throw APIRefusal.unauthorized("POST /v1/session needs Authorization: Bearer TOKEN")
        }
        let principal = try principal(request)
        let token = String(request.headers[.authorization]!.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        let secure = options.tlsCertificate != nil || options.behindTLSProxy ? "; Secure" : ""
        var response = Self.json(["name": principal.name, "role": principal.role.rawValue])
        response.headers[.setCookie] = "\(APIAuthenticator.cookieName)=\(token); Path=/; HttpOnly; SameSite=Strict\(secure)"
        return response
    }

    func closeSession() -> Response {
        var response = Response(status: .noContent)
        response.headers[.setCookie] = "\(APIAuthenticator.cookieName)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
        return response
    }
}

/// Plans of the jobs the API shows (a chunk map needs the plan's grid), computed once each.
final class PlanCache: Sendable {
    private let plans = Mutex<[Int64: Plan]>([:])
    static let capacity = 32

    func plan(of job: JobRecord) throws -> Plan {
        if let plan = plans.withLock({ $0[job.id!] }) { return plan }
        let plan = Planner.plan(try job.spec())
        plans.withLock { plans in
            if plans.count >= Self.capacity { plans.removeAll() }
            plans[job.id!] = plan
        }
        return plan
    }
}
