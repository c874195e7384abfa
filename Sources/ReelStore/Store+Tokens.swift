import Foundation
import GRDB
import ReelCore

/// One row of `apiToken`: a bearer token of the HTTP API, known by the SHA-256 of its secret.
public struct APITokenRecord: Sendable, Codable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "apiToken"
    public var id: Int64?
    /// Who the token speaks for: the owner of the jobs it submits.
    public var name: String
    /// viewer, submitter or admin.
    public var role: String
    /// Lowercase hex SHA-256 of the token.
    public var hash: String
    public var createdAt: Double
    public var revokedAt: Double?
}

extension Store {
    /// Records a new token; fails naming `name` when a live token has it already.
    public func createToken(name: String, role: String, hash: String, now: Double) throws {
        do {
            try database.write { db in
                guard try APITokenRecord.filter(Column("name") == name && Column("revokedAt") == nil).fetchCount(db) == 0 else {
                    throw ReelError(.usage, "a token named '\(name)' exists: revoke it first (`reel token revoke \(name)`)")
                }
                try APITokenRecord(id: nil, name: name, role: role, hash: hash, createdAt: now, revokedAt: nil).insert(db)
            }
        } catch let error as ReelError { throw error } catch { throw ReelError(.store, "cannot record the token: \(error)") }
    }

    /// Every token ever made, live and revoked, oldest first.
    public func tokens() throws -> [APITokenRecord] {
        try read { db in try APITokenRecord.order(Column("id")).fetchAll(db) }
    }

    /// Revokes the live token named `name`; false when there is none.
    public func revokeToken(name: String, now: Double) throws -> Bool {
        try write { db in
            try db.execute(sql: "UPDATE apiToken SET revokedAt = ? WHERE name = ? AND revokedAt IS NULL", arguments: [now, name])
            return db.changesCount > 0
        }
    }
}

/// The store's read-only queries, shared by the coordinator's ``Store`` and the HTTP API's
/// ``StoreReader`` (each on its own connection).
enum StoreQueries {
    static func jobs(_ db: Database) throws -> [JobRecord] { try JobRecord.order(Column("id")).fetchAll(db) }

    static func job(_ db: Database, _ id: Int64) throws -> JobRecord? { try JobRecord.fetchOne(db, key: id) }

    static func tasks(_ db: Database, job: Int64) throws -> [TaskRecord] {
        try TaskRecord.filter(Column("jobId") == job).order(Column("id")).fetchAll(db)
    }

    static func taskCounts(_ db: Database, job: Int64) throws -> [TaskState: Int] {
        let rows = try Row.fetchAll(
            db, sql: "SELECT state, SUM(n) AS n FROM taskCount WHERE jobId = ? AND n > 0 GROUP BY state", arguments: [job])
        var counts: [TaskState: Int] = [:]
        for row in rows { if let state = TaskState(rawValue: row["state"]) { counts[state] = row["n"] } }
        return counts
    }

    static func events(_ db: Database, job: Int64, after: Int64 = 0, limit: Int = .max) throws -> [EventRecord] {
        try EventRecord.filter(Column("jobId") == job && Column("id") > after).order(Column("id")).limit(limit).fetchAll(db)
    }
}
