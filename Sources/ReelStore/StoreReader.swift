import Foundation
import GRDB
import ReelCore

/// A read-only connection to a coordinator's store, for readers beside the coordinator (the
/// HTTP API): SQLite's WAL lets it read committed state while the coordinator writes, and it
/// never takes the coordinator's connection or its writer lock.
public final class StoreReader: Sendable {
    private let database: DatabaseQueue

    /// Opens the store at `path`, which the coordinator has created and migrated.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(5)
        do { database = try DatabaseQueue(path: path, configuration: configuration) } catch {
            throw ReelError(.store, "cannot open the database \(path) to read: \(error)")
        }
    }

    private func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try database.read(body) } catch { throw ReelError(.store, "database read failed: \(error)") }
    }

    public func jobs() throws -> [JobRecord] { try read(StoreQueries.jobs) }

    public func job(_ id: Int64) throws -> JobRecord? { try read { try StoreQueries.job($0, id) } }

    /// A job's tasks, every stage, in id order (the plan's unit order).
    public func tasks(job: Int64) throws -> [TaskRecord] { try read { try StoreQueries.tasks($0, job: job) } }

    /// Counts of tasks per state for a job.
    public func taskCounts(job: Int64) throws -> [TaskState: Int] { try read { try StoreQueries.taskCounts($0, job: job) } }

    /// Up to `limit` of a job's events with ids above `after`, oldest first: one page.
    public func events(job: Int64, after: Int64, limit: Int) throws -> [EventRecord] {
        try read { try StoreQueries.events($0, job: job, after: after, limit: limit) }
    }

    /// A job's task counts by stage, then state.
    public func stageCounts(job: Int64) throws -> [String: [TaskState: Int]] {
        try read { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT stage, state, n FROM taskCount WHERE jobId = ? AND n > 0", arguments: [job])
            var counts: [String: [TaskState: Int]] = [:]
            for row in rows { if let state = TaskState(rawValue: row["state"]) { counts[row["stage"], default: [:]][state] = row["n"] } }
            return counts
        }
    }

    /// Up to `limit` jobs with ids above `after` (of `owner` only, when given), in id order.
    public func jobs(after: Int64, limit: Int, owner: String? = nil) throws -> [JobRecord] {
        try read { db in
            var request = JobRecord.filter(Column("id") > after)
            if let owner { request = request.filter(Column("owner") == owner) }
            return try request.order(Column("id")).limit(limit).fetchAll(db)
        }
    }

    /// The jobs updated at or after `time` (of `owner` only, when given), in id order.
    public func jobs(updatedSince time: Double, owner: String? = nil) throws -> [JobRecord] {
        try read { db in
            var request = JobRecord.filter(Column("updatedAt") >= time)
            if let owner { request = request.filter(Column("owner") == owner) }
            return try request.order(Column("id")).fetchAll(db)
        }
    }

    /// A job's tasks of one stage, in id order.
    public func tasks(job: Int64, stage: String) throws -> [TaskRecord] {
        try read { db in try TaskRecord.filter(Column("jobId") == job && Column("stage") == stage).order(Column("id")).fetchAll(db) }
    }

    /// One task of a job by its stage and index in that stage.
    public func task(job: Int64, stage: String, index: Int) throws -> TaskRecord? {
        try read { db in
            try TaskRecord.filter(Column("jobId") == job && Column("stage") == stage && Column("chunkIndex") == index).fetchOne(db)
        }
    }

    /// The live token whose SHA-256 is `hash`, if any.
    public func liveToken(hash: String) throws -> APITokenRecord? {
        try read { db in try APITokenRecord.filter(Column("hash") == hash && Column("revokedAt") == nil).fetchOne(db) }
    }

    /// The events of every job with ids above `after`, oldest first, at most `limit`: what a
    /// live feed has not yet passed on.
    public func events(after: Int64, limit: Int) throws -> [EventRecord] {
        try read { db in try EventRecord.filter(Column("id") > after).order(Column("id")).limit(limit).fetchAll(db) }
    }

    /// The newest event's id (0 for none).
    public func lastEventID() throws -> Int64 {
        try read { db in try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM event") ?? 0 }
    }
}
