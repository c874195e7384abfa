import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ReelCoordinator
import ReelCore
import ReelStore

/// Workers, and the live feed (server-sent events) the dashboard updates from.
extension APIHandlers {
    func listWorkers(_ request: Request) throws -> Response {
        let principal = try principal(request)
        guard principal.role != .submitter else {
            throw APIRefusal.forbidden("token '\(principal.name)' is a submitter: only viewers and admins see the workers")
        }
        return Self.json(WorkerListBody(workers: Self.workers(channel.snapshot)))
    }

    static func workers(_ snapshot: LiveSnapshot) -> [WorkerView] {
        snapshot.workers.map { worker in
            let minutes = max(1.0 / 60, (snapshot.at - worker.joinedAt) / 60)
            return WorkerView(
                id: worker.id, state: worker.leases.isEmpty ? "idle" : "busy", leases: worker.leases, tasksDone: worker.tasksDone,
                failures: worker.failures, tasksPerMinute: (Double(worker.tasksDone) / minutes * 100).rounded() / 100,
                backends: worker.backends,
                models: worker.models, device: worker.device, memoryMegabytes: Int(min(worker.memoryMegabytes, UInt64(Int.max))),
                joinedAt: worker.joinedAt, lastSeen: worker.lastSeen)
        }
    }

    /// `GET /v1/events`: a job's view each time it changes (`event: job`), every stored event
    /// of a job the caller may read (`event: event`, with its id, so a reconnecting browser
    /// resumes after `Last-Event-ID`), the workers every 2 s for viewers and admins
    /// (`event: workers`), and a comment every 15 s to keep proxies from closing it.
    func liveFeed(_ request: Request) throws -> Response {
        let principal = try principal(request)
        // Counted while the stream runs (so nothing that fails before it can leak a place).
        guard feeds.load(ordering: .relaxed) < Self.maxFeeds else {
            throw APIRefusal(status: .serviceUnavailable, code: "busy", message: "\(Self.maxFeeds) live feeds are open; retry later")
        }
        let resumeAfter = request.headers[HTTPField.Name("Last-Event-ID")!].flatMap { Int64($0) }
        let start = try resumeAfter ?? reader.lastEventID()
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                self.feeds.add(1, ordering: .relaxed)
                defer { self.feeds.subtract(1, ordering: .relaxed) }
                var feed = FeedState(lastEvent: start)
                try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
                while !Task.isCancelled && !self.closing.load(ordering: .relaxed) {
                    let text = try self.feedUpdate(&feed, for: principal)
                    if !text.isEmpty { try await writer.write(ByteBuffer(string: text)) }
                    try await Task.sleep(for: .milliseconds(500))
                }
                try await writer.finish(nil)
            })
    }

    /// What one feed has sent.
    struct FeedState {
        var lastEvent: Int64
        /// Jobs updated since this are looked at (with the loop's live jobs); starts a minute back.
        var since = Date().timeIntervalSince1970 - 60
        /// Each job's state, update time and progress as last sent.
        var sent: [Int64: String] = [:]
        /// Whether the caller may read each job whose events came by.
        var readable: [Int64: Bool] = [:]
        var lastWorkers = 0.0
        var lastComment = Date().timeIntervalSince1970
    }

    /// The feed's next lines: what changed since it last ran. It looks only at jobs the loop
    /// holds and jobs updated since the last look, so a farm's history costs it nothing.
    func feedUpdate(_ feed: inout FeedState, for principal: APIPrincipal) throws -> String {
        var text = ""
        let snapshot = channel.snapshot
        let now = Date().timeIntervalSince1970
        var jobs = try reader.jobs(updatedSince: feed.since - 2, owner: principal.role == .submitter ? principal.name : nil)
        feed.since = now
        let listed = Set(jobs.compactMap(\.id))
        for id in snapshot.jobs.keys.sorted() where !listed.contains(id) {
            if let job = try reader.job(id), principal.reads(job) { jobs.append(job) }
        }
        for job in jobs {
            feed.readable[job.id!] = true
            let live = snapshot.jobs[job.id!]
            let mark =
                "\(live?.state.rawValue ?? job.state.rawValue) \(job.updatedAt) \(live?.tasksDone ?? -1) \(live?.framesEncoded ?? -1) \(live?.reason ?? "") \(job.consistencyJSON != nil)"
            guard feed.sent[job.id!] != mark else { continue }
            feed.sent[job.id!] = mark
            text += "event: job\ndata: \(Self.line(try view(job, snapshot: snapshot)))\n\n"
        }
        for event in try reader.events(after: feed.lastEvent, limit: 500) {
            feed.lastEvent = event.id ?? feed.lastEvent
            guard let job = event.jobId else { continue }
            if feed.readable[job] == nil { feed.readable[job] = try reader.job(job).map(principal.reads) ?? false }
            guard feed.readable[job] == true else { continue }
            text += "id: \(event.id ?? 0)\nevent: event\ndata: \(Self.line(Self.view(event)))\n\n"
        }
        if principal.role != .submitter && now - feed.lastWorkers >= 2 {
            feed.lastWorkers = now
            text += "event: workers\ndata: \(Self.line(WorkerListBody(workers: Self.workers(snapshot))))\n\n"
        }
        if text.isEmpty && now - feed.lastComment >= 15 { text = ": still here\n\n" }
        if !text.isEmpty { feed.lastComment = now }
        return text
    }

    /// A value as one line of JSON (JSON escapes newlines inside strings).
    static func line<T: Encodable>(_ value: T) -> String {
        String(decoding: (try? encoder.encode(value)) ?? Data("{}".utf8), as: UTF8.self)
    }
}
