import Foundation
import GRDB
import ReelCore

/// The coordinator's durable state: one SQLite file in WAL mode with full fsync on commit,
/// written by one connection. Every method is one transaction.
public final class Store: Sendable {

    let database: DatabaseQueue
    public let path: String

    /// Opens (creating and migrating) the store at `path` and checks its integrity.
    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            database = try DatabaseQueue(path: path, configuration: configuration)
            try database.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL")
            }
            try Migrations.migrator.migrate(database)
            let check = try database.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") }
            guard check == "ok" else { throw ReelError(.store, "integrity check of \(path) failed: \(check ?? "no answer")") }
        } catch let error as ReelError {
            throw error
        } catch {
            throw ReelError(.store, "cannot open the database \(path): \(error)")
        }
    }

    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try database.write(body) } catch { throw Self.writeFailure(error) }
    }

    /// A failed write as a ``ReelError``: a full disk (or an I/O error, which is how SQLite
    /// reports some) is `diskFull`, so the job pauses instead of failing.
    private static func writeFailure(_ error: Error) -> ReelError {
        if let error = error as? ReelError { return error }
        if let error = error as? DatabaseError, error.resultCode == .SQLITE_FULL || error.resultCode == .SQLITE_IOERR {
            return ReelError(.diskFull, "database write failed: \(error.message ?? "\(error)")")
        }
        return ReelError(.store, "database write failed: \(error)")
    }

    /// Leaves WAL checkpoints to a ``WALCheckpointer``.
    func disableAutomaticCheckpoints() throws {
        try database.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
    }

    /// A transaction committed without waiting for the disk (`synchronous = NORMAL`): it
    /// survives a crash of this process, and the next durable commit flushes it; an OS crash
    /// may lose it. For records whose loss is harmless.
    private func writeLazily<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try database.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
                defer { try? db.execute(sql: "PRAGMA synchronous = FULL") }
                var result: T?
                try db.inTransaction {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        } catch {
            throw Self.writeFailure(error)
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try database.read(body) } catch { throw ReelError(.store, "database read failed: \(error)") }
    }

    /// Inserts a job with its first `firstUnits` tasks and its last one, which reserves the
    /// job's consecutive task ids (task `first + u` is plan unit `u`); ``insertTasks(job:plan:first:units:now:)``
    /// adds the rest in batches, so a huge job never holds the writer for long.
    public func insertJob(spec: JobSpec, plan: Plan, owner: String = "local", firstUnits: Int = .max, now: Double) throws -> JobRecord {
        let json = String(decoding: try JSONCoding.encoder.encode(spec), as: UTF8.self)
        return try write { db in
            let job = try JobRecord(
                id: nil, name: spec.name, specJSON: json, state: .running, reason: nil, output: spec.output,
                createdAt: now, updatedAt: now, latentChecksum: nil, frameChecksum: nil, owner: owner
            ).inserted(db)
            // Ids are never reused (AUTOINCREMENT): start past the highest ever given.
            let used = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM sqlite_sequence WHERE name = 'task'") ?? 0
            let highest = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM task") ?? 0
            let first = max(used, highest) + 1
            let count = plan.units.count
            let units = Array(0..<min(count, max(1, firstUnits))) + (firstUnits < count - 1 ? [count - 1] : [])
            try insertTasks(db, job: job.id!, plan: plan, first: first, units: units, now: now)
            try EventRecord(
                id: nil, jobId: job.id, taskId: nil, at: now, kind: "job-submitted",
                detail: "\(plan.mode.rawValue): \(plan.units.count) tasks (\(plan.chunks.count) chunks, \(plan.seams.count) seams)"
            ).insert(db)
            return job
        }
    }

    /// Inserts the tasks of `units` (ids `first + unit`) in one transaction, skipping any
    /// already there, and stops early once the clock passes `deadline` (checked every 32 rows,
    /// so a slow build or a busy machine still keeps the writer short). Returns the end of the
    /// units inserted: `units.upperBound` when all of them went in.
    public func insertTasks(
        job: Int64, plan: Plan, first: Int64, units: Range<Int>, now: Double, deadline: Double = .infinity
    ) throws -> Int {
        try write { db in
            var end = units.lowerBound
            while end < units.upperBound && (end == units.lowerBound || Date().timeIntervalSince1970 < deadline) {
                let next = min(units.upperBound, end + 32)
                try insertTasks(db, job: job, plan: plan, first: first, units: Array(end..<next), now: now)
                end = next
            }
            return end
        }
    }

    private func insertTasks(_ db: Database, job: Int64, plan: Plan, first: Int64, units: [Int], now: Double) throws {
        let insert = try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO task (id, jobId, stage, chunkIndex, state, attempt, updatedAt) VALUES (?, ?, ?, ?, 'pending', 0, ?)"
        )
        for unit in units {
            let entry = plan.units[unit]
            try insert.execute(arguments: [first + Int64(unit), job, entry.stage.rawValue, entry.index, now])
        }
    }

    /// A lease to record: `task` moves to `leased` under `attempt`, held by `worker` until `expiresAt`.
    public struct Lease: Sendable {
        public var task: Int64
        public var attempt: Int
        public var worker: String
        public var expiresAt: Double
        public init(task: Int64, attempt: Int, worker: String, expiresAt: Double) {
            self.task = task
            self.attempt = attempt
            self.worker = worker
            self.expiresAt = expiresAt
        }
    }

    /// A result to commit: the task's artifact is already durable at `artifact`.
    public struct Commit: Sendable {
        public var task: Int64
        public var attempt: Int
        public var worker: String
        public var checksum: String
        public var artifact: String
        public init(task: Int64, attempt: Int, worker: String, checksum: String, artifact: String) {
            self.task = task
            self.attempt = attempt
            self.worker = worker
            self.checksum = checksum
            self.artifact = artifact
        }
    }

    /// Records a lease: the task moves to `leased` under `attempt`, held by `worker` until `expiresAt`.
    public func recordLease(task: Int64, attempt: Int, worker: String, expiresAt: Double, now: Double) throws {
        try recordLeases([Lease(task: task, attempt: attempt, worker: worker, expiresAt: expiresAt)], now: now)
    }

    /// Records several leases in one transaction, without waiting for the disk: a lease lost
    /// to an OS crash only means its task runs again (the old holder's result is then stale,
    /// and results are deterministic), while a coordinator crash loses nothing.
    public func recordLeases(_ leases: [Lease], now: Double) throws {
        guard !leases.isEmpty else { return }
        try writeLazily { db in
            for lease in leases {
                try db.cachedStatement(
                    sql: """
                        UPDATE task SET state = 'leased', attempt = ?, worker = ?, leaseExpiresAt = ?, updatedAt = ?
                        WHERE id = ? AND state != 'done'
                        """
                ).execute(arguments: [lease.attempt, lease.worker, lease.expiresAt, now, lease.task])
                try db.cachedStatement(
                    sql: "INSERT OR REPLACE INTO lease (taskId, attempt, worker) VALUES (?, ?, ?)"
                ).execute(arguments: [lease.task, lease.attempt, lease.worker])
                try recordEvent(task: lease.task, at: now, kind: "task-leased", detail: "attempt \(lease.attempt) to \(lease.worker)", db)
            }
        }
    }

    /// Commits a result if, and only if, the task is still leased and `worker` holds a live
    /// lease of it under `attempt` (the first holder or a straggler's backup). Returns false,
    /// changing nothing, for a stale, duplicate or foreign result.
    public func commitResult(task: Int64, attempt: Int, worker: String, checksum: String, artifact: String, now: Double) throws -> Bool {
        try commitResults([Commit(task: task, attempt: attempt, worker: worker, checksum: checksum, artifact: artifact)], now: now)[0]
    }

    /// Commits several results in one transaction (one fsync): a group commit. Returns, per
    /// result, whether it was committed.
    public func commitResults(_ results: [Commit], now: Double) throws -> [Bool] {
        guard !results.isEmpty else { return [] }
        return try write { db in
            try results.map { result in
                try db.cachedStatement(
                    sql: """
                        UPDATE task SET state = 'done', attempt = ?, worker = ?, checksum = ?, artifact = ?, leaseExpiresAt = NULL,
                          updatedAt = ?
                        WHERE id = ? AND state = 'leased'
                          AND EXISTS (SELECT 1 FROM lease WHERE lease.taskId = task.id AND lease.attempt = ? AND lease.worker = ?)
                        """
                ).execute(
                    arguments: [
                        result.attempt, result.worker, result.checksum, result.artifact, now, result.task, result.attempt, result.worker,
                    ])
                guard db.changesCount == 1 else { return false }
                try db.cachedStatement(sql: "DELETE FROM lease WHERE taskId = ?").execute(
                    arguments: [result.task])
                try recordEvent(
                    task: result.task, at: now, kind: "task-committed",
                    detail: "attempt \(result.attempt) from \(result.worker), checksum \(result.checksum)", db)
                return true
            }
        }
    }

    /// Returns a leased task to `pending` (its worker died or its lease ran out), with the reason.
    public func requeue(task: Int64, reason: String, now: Double) throws {
        try write { db in
            try db.execute(
                sql:
                    "UPDATE task SET state = 'pending', worker = NULL, leaseExpiresAt = NULL, updatedAt = ? WHERE id = ? AND state = 'leased'",
                arguments: [now, task])
            try db.execute(sql: "DELETE FROM lease WHERE taskId = ?", arguments: [task])
            try recordEvent(task: task, at: now, kind: "task-requeued", detail: reason, db)
        }
    }

    /// Appends a task's event with one cached statement (the hot path of every lease and commit).
    /// The event carries the task's job; an unknown task gets none.
    private func recordEvent(task: Int64, at time: Double, kind: String, detail: String, _ db: Database) throws {
        try db.cachedStatement(
            sql: "INSERT INTO event (jobId, taskId, at, kind, detail) SELECT jobId, id, ?, ?, ? FROM task WHERE id = ?"
        ).execute(arguments: [time, kind, detail, task])
    }

    /// Records a finished job's consistency report (JSON).
    public func recordConsistency(job: Int64, json: String, now: Double) throws {
        try write { db in
            try db.execute(sql: "UPDATE job SET consistencyJSON = ?, updatedAt = ? WHERE id = ?", arguments: [json, now, job])
        }
    }

    /// How many times a task of `job` was leased again after it had been committed (must be 0).
    public func recomputedAfterCommit(job: Int64) throws -> Int {
        try read { db in
            try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FROM event leased JOIN event committed
                      ON leased.taskId = committed.taskId AND leased.kind = 'task-leased' AND committed.kind = 'task-committed'
                      AND leased.id > committed.id
                    WHERE committed.jobId = ?
                    """, arguments: [job]) ?? 0
        }
    }

    /// Commits recorded per task of `job` (each must be exactly 1 once the job is done).
    public func commitCounts(job: Int64) throws -> [Int64: Int] {
        try read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT taskId, COUNT(*) AS n FROM event WHERE jobId = ? AND kind = 'task-committed' GROUP BY taskId
                    """, arguments: [job])
            return Dictionary(uniqueKeysWithValues: rows.map { ($0["taskId"] as Int64, $0["n"] as Int) })
        }
    }

    /// Moves a job to `state`, recording why.
    public func setJobState(
        _ job: Int64, _ state: JobState, reason: String?, now: Double,
        latentChecksum: String? = nil, frameChecksum: String? = nil
    ) throws {
        try write { db in
            try db.execute(
                sql: """
                    UPDATE job SET state = ?, reason = ?, updatedAt = ?,
                      latentChecksum = COALESCE(?, latentChecksum), frameChecksum = COALESCE(?, frameChecksum)
                    WHERE id = ?
                    """, arguments: [state, reason, now, latentChecksum, frameChecksum, job])
            try EventRecord(id: nil, jobId: job, taskId: nil, at: now, kind: "job-\(state.rawValue)", detail: reason ?? "").insert(db)
        }
    }

    public func jobs() throws -> [JobRecord] { try read(StoreQueries.jobs) }

    public func job(_ id: Int64) throws -> JobRecord? { try read { try StoreQueries.job($0, id) } }

    /// A job's tasks, every stage, in id order (the plan's unit order).
    public func tasks(job: Int64) throws -> [TaskRecord] { try read { try StoreQueries.tasks($0, job: job) } }

    /// The first task id of a job and its number of tasks; nil when it has none. A job's
    /// tasks were inserted in one transaction, so their ids are consecutive (checked).
    /// A job's task ids: the first and last (its reserved range) and how many rows exist
    /// (fewer than the range while a large job's tasks are still being inserted).
    public func taskSpan(job: Int64) throws -> (first: Int64, last: Int64, count: Int)? {
        try read { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT MIN(id) AS first, MAX(id) AS last, COUNT(*) AS n FROM task WHERE jobId = ?", arguments: [job]),
                let first: Int64 = row["first"], let last: Int64 = row["last"]
            else { return nil }
            return (first, last, row["n"])
        }
    }

    /// The uncommitted ones of the tasks `ids`, in id order (a page of the scheduler's window),
    /// read a run of consecutive ids at a time: a page in time order is a few such runs (its
    /// chunks', its seams'), each a range of the primary key.
    public func openTasks(ids: [Int64]) throws -> [TaskRecord] {
        let sorted = Array(Set(ids)).sorted()
        return try read { db in
            let statement = try db.cachedStatement(sql: "SELECT * FROM task WHERE id BETWEEN ? AND ? AND state != ? ORDER BY id")
            var records: [TaskRecord] = []
            var start = 0
            while start < sorted.count {
                var end = start
                while end + 1 < sorted.count && sorted[end + 1] == sorted[end] + 1 { end += 1 }
                records += try TaskRecord.fetchAll(statement, arguments: [sorted[start], sorted[end], TaskState.done.rawValue])
                start = end + 1
            }
            return records
        }
    }

    /// A job's leased tasks (whose holders may still deliver after a restart).
    public func leasedTasks(job: Int64) throws -> [TaskRecord] {
        try read { db in
            try TaskRecord.filter(Column("jobId") == job && Column("state") == TaskState.leased.rawValue).order(Column("id")).fetchAll(db)
        }
    }

    /// Calls `body` with the id and artifact of each of a job's committed tasks, without
    /// loading them all at once.
    public func forEachCommittedArtifact(job: Int64, _ body: (Int64, String) throws -> Void) throws {
        try read { db in
            let rows = try Row.fetchCursor(
                db, sql: "SELECT id, artifact FROM task WHERE jobId = ? AND state = ? AND artifact IS NOT NULL",
                arguments: [job, TaskState.done.rawValue])
            while let row = try rows.next() { try body(row[0], row[1]) }
        }
    }

    public func events(job: Int64) throws -> [EventRecord] { try read { try StoreQueries.events($0, job: job) } }

    /// Counts of tasks per state for a job.
    public func taskCounts(job: Int64) throws -> [TaskState: Int] { try read { try StoreQueries.taskCounts($0, job: job) } }

    /// Records an event of a job (not of one of its tasks): a webhook's delivery, say.
    public func recordJobEvent(job: Int64, kind: String, detail: String, now: Double) throws {
        try writeLazily { db in try EventRecord(id: nil, jobId: job, taskId: nil, at: now, kind: kind, detail: detail).insert(db) }
    }

    // MARK: Quarantine

    /// Records that `principal` was quarantined, and why (an event of no job).
    public func recordQuarantine(_ principal: String, reason: String, now: Double) throws {
        try write { db in
            try EventRecord(id: nil, jobId: nil, taskId: nil, at: now, kind: "worker-quarantined", detail: "\(principal): \(reason)")
                .insert(db)
        }
    }

    /// A job's committed tasks whose worker belongs to `principal` (its name, or `principal/…` under CURVE).
    public func tasksCommitted(job: Int64, by principal: String) throws -> [TaskRecord] {
        try read { db in
            try TaskRecord.filter(
                Column("jobId") == job && Column("state") == TaskState.done.rawValue
                    && (Column("worker") == principal
                        || Column("worker").like(principal.replacingOccurrences(of: "%", with: "\\%") + "/%", escape: "\\"))
            ).order(Column("id")).fetchAll(db)
        }
    }

    /// Returns committed tasks to pending (their results are to be recomputed), with the reason.
    public func reopen(tasks ids: [Int64], reason: String, now: Double) throws {
        try write { db in
            for task in ids {
                try db.execute(
                    sql:
                        "UPDATE task SET state = 'pending', worker = NULL, checksum = NULL, artifact = NULL, updatedAt = ? WHERE id = ? AND state = 'done'",
                    arguments: [now, task])
                try recordEvent(task: task, at: now, kind: "task-reopened", detail: reason, db)
            }
        }
    }
}
