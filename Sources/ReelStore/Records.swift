import Foundation
import GRDB
import ReelCore

extension JobState: DatabaseValueConvertible {}

/// Where a task is in its life. Stored as text.
public enum TaskState: String, Sendable, Codable, DatabaseValueConvertible {
    case pending
    case leased
    case done
}

/// One row of `job`.
public struct JobRecord: Sendable, Codable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "job"
    public var id: Int64?
    public var name: String
    /// The validated spec as JSON.
    public var specJSON: String
    public var state: JobState
    public var reason: String?
    public var output: String
    public var createdAt: Double
    public var updatedAt: Double
    /// Checksum of the stitched latents, once encoded: equal across worker counts.
    public var latentChecksum: String?
    /// Checksum of the decoded RGB frames, once encoded.
    public var frameChecksum: String?
    /// The consistency report (JSON), once encoded.
    public var consistencyJSON: String? = nil
    /// Who submitted it: the submitter's CURVE key name, or "local" on loopback.
    public var owner: String = "local"

    public func spec() throws -> JobSpec {
        try JSONCoding.decoder.decode(JobSpec.self, from: Data(specJSON.utf8))
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// One row of `task`: a chunk of one stage of one job.
public struct TaskRecord: Sendable, Codable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "task"
    public var id: Int64?
    public var jobId: Int64
    public var stage: String
    public var chunkIndex: Int
    public var state: TaskState
    public var attempt: Int
    public var worker: String?
    public var leaseExpiresAt: Double?
    public var checksum: String?
    public var artifact: String?
    public var updatedAt: Double

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension TaskRecord {
    /// Decoded column by column, not through `Decodable`: a page of the scheduler's window is
    /// hundreds of rows read on the coordinator's thread, and the generic decoding was most of
    /// its time.
    public init(row: Row) throws {
        id = try row.decode(forColumn: "id")
        jobId = try row.decode(forColumn: "jobId")
        stage = try row.decode(forColumn: "stage")
        chunkIndex = try row.decode(forColumn: "chunkIndex")
        state = try row.decode(forColumn: "state")
        attempt = try row.decode(forColumn: "attempt")
        worker = try row.decode(forColumn: "worker")
        leaseExpiresAt = try row.decode(forColumn: "leaseExpiresAt")
        checksum = try row.decode(forColumn: "checksum")
        artifact = try row.decode(forColumn: "artifact")
        updatedAt = try row.decode(forColumn: "updatedAt")
    }
}

/// One row of `event`: a state change and its reason, for the task log.
public struct EventRecord: Sendable, Codable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "event"
    public var id: Int64?
    public var jobId: Int64?
    public var taskId: Int64?
    public var at: Double
    public var kind: String
    public var detail: String
}

/// The JSON settings used for stored specs (sorted keys, so the text is stable).
public enum JSONCoding {
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()
    public static let decoder = JSONDecoder()
}
