import Foundation

/// The API's JSON bodies (``OpenAPIDocument`` describes each).

/// A problem with one field of a submitted spec.
struct FieldProblem: Codable, Sendable, Hashable {
    let field: String
    let problem: String
}

/// Every error's body.
struct ErrorBody: Codable, Sendable {
    /// A stable code: unauthorized, forbidden, not-found, bad-request, invalid-spec, conflict, busy, ...
    let error: String
    let message: String
    /// For `invalid-spec`: each problem, naming its field.
    var problems: [FieldProblem]? = nil
}

struct CreatedBody: Codable, Sendable {
    let id: Int64
}

/// One stage of a job: keyframes, chunks, seams, decode, encode (only those the job has).
struct StageView: Codable, Sendable, Hashable {
    let name: String
    let done: Int
    let total: Int
}

/// A job as the API shows it.
struct JobView: Codable, Sendable {
    let id: Int64
    let name: String
    let owner: String
    /// running, paused, encoding, done, failed or cancelled.
    let state: String
    let reason: String?
    let createdAt: Double
    let updatedAt: Double
    /// Fraction of the job's work done (0-1): its tasks, then its encoded frames.
    let progress: Double
    /// Seconds until it is done at the pace so far; nil when unknown or not running.
    let etaSeconds: Double?
    let stages: [StageView]
    let framesEncoded: Int
    let framesTotal: Int
    let latentChecksum: String?
    let frameChecksum: String?
    /// The consistency report (seam and flicker scores) once encoded.
    let consistency: JSONValue?
    /// Where the MP4 is served once the job is done.
    let outputURL: String?
}

struct JobListBody: Codable, Sendable {
    let jobs: [JobView]
    /// The `after` of the next page; nil on the last.
    let next: Int64?
}

/// One live worker.
struct WorkerView: Codable, Sendable {
    let id: String
    /// busy (holding leases) or idle.
    let state: String
    let leases: [Int64]
    let tasksDone: Int
    let failures: Int
    /// Tasks committed per minute since it joined.
    let tasksPerMinute: Double
    let backends: [String]
    let models: [String]
    let device: String
    let memoryMegabytes: Int
    let joinedAt: Double
    let lastSeen: Double
}

struct WorkerListBody: Codable, Sendable {
    let workers: [WorkerView]
}

struct EventView: Codable, Sendable {
    let id: Int64
    let job: Int64?
    let task: Int64?
    let at: Double
    let kind: String
    let detail: String
}

struct EventPageBody: Codable, Sendable {
    let events: [EventView]
    let next: Int64?
}

/// The chunk map: one cell per chunk task, on the job's time-window × tile grid.
struct ChunkMapBody: Codable, Sendable {
    struct Cell: Codable, Sendable {
        let task: Int64
        let chunk: Int
        let window: Int
        let tile: Int
        /// pending, leased, done, failed (waiting to run again) or rerun (done after a retry).
        let state: String
        let worker: String?
        let attempt: Int
    }
    let windows: Int
    let tileRows: Int
    let tileColumns: Int
    let cells: [Cell]
}

/// Any JSON value: a spec body's fields, a stored report passed through.
enum JSONValue: Codable, Sendable, Hashable {
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])
    case null

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }
}
