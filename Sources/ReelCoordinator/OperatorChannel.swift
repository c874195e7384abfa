import Foundation
import ReelCore
import ReelWire
import Synchronization

/// What an operator asks the coordinator to change, from outside its thread (the HTTP API).
public enum OperatorAction: Sendable {
    /// A job spec as JSON (what a ZeroMQ SUBMIT carries).
    case submit(json: [UInt8])
    case control(job: Int64, JobControl)
}

/// Who asks: a name (the owner of the jobs it submits) that may submit and control its own
/// jobs, or every job when `admin`.
public struct OperatorIdentity: Sendable, Hashable {
    public let name: String
    public let admin: Bool

    public init(name: String, admin: Bool) {
        self.name = name
        self.admin = admin
    }
}

/// What the coordinator's loop knows and the store does not (yet): published at most every
/// ``OperatorChannel/publishInterval`` seconds for readers on other threads.
public struct LiveSnapshot: Sendable {
    /// One loaded job's state as the loop sees it.
    public struct Job: Sendable, Hashable {
        public var state: JobState
        public var reason: String?
        public var tasksDone: Int
        public var tasksTotal: Int
        public var framesEncoded: Int?
    }

    /// One live worker.
    public struct Worker: Sendable, Hashable {
        public var id: String
        public var backends: [String]
        public var models: [String]
        public var device: String
        public var memoryMegabytes: UInt64
        /// The tasks it holds leases of.
        public var leases: [Int64]
        public var tasksDone: Int
        public var failures: Int
        public var joinedAt: Double
        public var lastSeen: Double
    }

    public var at: Double = 0
    public var jobs: [Int64: Job] = [:]
    public var workers: [Worker] = []
    /// Messages dropped since the coordinator started.
    public var droppedMessages = 0
}

/// The coordinator's door for operators on other threads: requests go in a queue its loop
/// drains each turn (so every change still happens on its thread, through the same code as a
/// ZeroMQ client's), and the loop publishes a ``LiveSnapshot`` for reads. Bounded: at most
/// ``capacity`` requests wait; past it a request is refused at once.
public final class OperatorChannel: Sendable {
    public typealias Reply = @Sendable (WireMessage) -> Void

    struct Request: Sendable {
        let action: OperatorAction
        let identity: OperatorIdentity
        let reply: Reply
    }

    /// Requests that may wait for the loop at once.
    public static let capacity = 64
    /// Seconds between snapshots.
    public static let publishInterval = 0.25

    private let requests = Mutex<[Request]>([])
    private let published = Mutex(LiveSnapshot())

    public init() {}

    /// Queues `action` for the coordinator's loop; `reply` is called there with its answer
    /// (a SUBMITTED, a STATUS_REPLY or an ERROR), or at once with an ERROR when the queue is full.
    public func post(_ action: OperatorAction, as identity: OperatorIdentity, reply: @escaping Reply) {
        let queued = requests.withLock { queue -> Bool in
            guard queue.count < Self.capacity else { return false }
            queue.append(Request(action: action, identity: identity, reply: reply))
            return true
        }
        if !queued {
            reply(.error(code: ReelError.Code.busy.rawValue, message: "the coordinator has \(Self.capacity) requests waiting; retry"))
        }
    }

    /// ``post(_:as:reply:)`` awaiting the answer.
    public func ask(_ action: OperatorAction, as identity: OperatorIdentity) async -> WireMessage {
        await withCheckedContinuation { continuation in post(action, as: identity) { continuation.resume(returning: $0) } }
    }

    /// The latest snapshot.
    public var snapshot: LiveSnapshot { published.withLock { $0 } }

    func take() -> [Request] {
        requests.withLock { queue in
            defer { queue.removeAll() }; return queue
        }
    }

    func publish(_ snapshot: LiveSnapshot) { published.withLock { $0 = snapshot } }
}
