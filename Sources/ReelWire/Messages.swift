import ReelCore

/// A (task, attempt) pair: the identity of one lease.
public struct LeaseRef: Sendable, Hashable, Codable, CustomStringConvertible {
    public var task: Int64
    public var attempt: UInt32

    public init(task: Int64, attempt: UInt32) {
        self.task = task
        self.attempt = attempt
    }

    public var description: String { "task \(task) attempt \(attempt)" }
}

/// What a worker announces when it connects.
public struct WorkerHello: Sendable, Hashable {
    public var name: String
    public var backends: [String]
    /// How many tasks it runs at once.
    public var slots: UInt32
    public var memoryMegabytes: UInt64
    public var tags: [String]
    /// Every lease it still holds: running, queued, or with a result not yet acknowledged. A
    /// coordinator keeps a restored lease only if its holder says it holds it, so a task whose
    /// TASK message was lost (say, to a coordinator killed before libzmq sent it) runs again.
    public var holding: [LeaseRef]
    /// Diffusers backend: model folders this worker can load ("*": any path it is sent).
    public var models: [String]
    /// Where its models run, e.g. "cpu" or "cuda NVIDIA H200" (empty without a model backend).
    public var device: String

    public init(
        name: String, backends: [String], slots: UInt32, memoryMegabytes: UInt64, tags: [String], holding: [LeaseRef] = [],
        models: [String] = [], device: String = ""
    ) {
        self.models = models
        self.device = device
        self.name = name
        self.backends = backends
        self.slots = slots
        self.memoryMegabytes = memoryMegabytes
        self.tags = tags
        self.holding = holding
    }
}

/// A chunk handed to a worker under a lease.
/// How far a worker has got with a lease: denoising steps completed (0 while it sets up).
public struct TaskProgress: Sendable, Hashable {
    public var lease: LeaseRef
    public var step: UInt32

    public init(lease: LeaseRef, step: UInt32) {
        self.lease = lease
        self.step = step
    }
}

public struct TaskAssignment: Sendable, Hashable {
    public var lease: LeaseRef
    /// How long the lease lasts without heartbeats, in milliseconds.
    public var leaseMilliseconds: UInt32
    public var work: ChunkWork
    /// Clean data the task is conditioned on (travels in the message's third frame).
    public var conditioning: Conditioning

    public init(lease: LeaseRef, leaseMilliseconds: UInt32, work: ChunkWork, conditioning: Conditioning = .none) {
        self.lease = lease
        self.leaseMilliseconds = leaseMilliseconds
        self.work = work
        self.conditioning = conditioning
    }
}

/// A finished chunk: its latents (little-endian Float16) and their checksum.
public struct TaskResult: Sendable, Hashable {
    public var lease: LeaseRef
    public var checksum: UInt64
    public var sampleMilliseconds: UInt32
    public var latents: [UInt8]

    public init(lease: LeaseRef, checksum: UInt64, sampleMilliseconds: UInt32, latents: [UInt8]) {
        self.lease = lease
        self.checksum = checksum
        self.sampleMilliseconds = sampleMilliseconds
        self.latents = latents
    }
}

/// Every message of the Reel protocol.
public enum WireMessage: Sendable, Hashable {
    /// Worker → coordinator: capabilities; also the answer to `disconnect`.
    case ready(WorkerHello)
    /// Either way: liveness. Workers send it from their sampling loop, with how far each task
    /// it runs has got (a lease is kept by progress); the coordinator's carries `outstanding`,
    /// the uncommitted tasks of running jobs (a worker with `--exit-when-idle` stays while
    /// the farm has work, even when none of it is for that worker now).
    case heartbeat(progress: [TaskProgress] = [], outstanding: UInt32 = 0)
    /// Coordinator → worker: run this chunk.
    case task(TaskAssignment)
    /// Worker → coordinator: the chunk's latents.
    case result(TaskResult)
    /// Coordinator → worker: the result is committed.
    case ack(LeaseRef)
    /// Coordinator → worker: forget this lease (another holder's result won, or the coordinator
    /// will not commit this one): drop the task if queued, its result if running or sent.
    case revoke(LeaseRef)
    /// Worker → coordinator: the chunk could not be sampled.
    case failed(LeaseRef, reason: String, outOfMemory: Bool = false)
    /// Coordinator → worker: you are not known here; announce yourself again.
    /// Worker → coordinator: I am leaving (stopped, or idle); take my leases back now.
    case disconnect(reason: String)
    /// Client → coordinator: a job spec as JSON (a validated ``JobSpec``).
    case submit(specJSON: [UInt8])
    /// Coordinator → client: the new job's id.
    case submitted(job: Int64)
    /// Client → coordinator: status of one job, or of all jobs when nil.
    case status(job: Int64?)
    /// Client → coordinator: pause, resume or cancel a job (answered with its status).
    case control(job: Int64, action: JobControl)
    /// Coordinator → client: status as JSON.
    case statusReply(json: [UInt8])
    /// Coordinator → client: a request was refused.
    case error(code: String, message: String)

    /// The command byte on the wire.
    public var command: UInt8 {
        switch self {
        case .ready: 0x01
        case .heartbeat: 0x02
        case .task: 0x03
        case .result: 0x04
        case .ack: 0x05
        case .failed: 0x06
        case .disconnect: 0x07
        case .revoke: 0x08
        case .submit: 0x10
        case .submitted: 0x11
        case .status: 0x12
        case .statusReply: 0x13
        case .control: 0x14
        case .error: 0x1F
        }
    }

    /// A short name for logs and counters.
    /// Sent by workers: READY, HEARTBEAT, RESULT, FAILED, DISCONNECT (a worker leaving).
    public var isFromWorker: Bool {
        switch self {
        case .ready, .heartbeat, .result, .failed, .disconnect: true
        default: false
        }
    }

    /// Sent by clients: SUBMIT, STATUS, CONTROL.
    public var isFromClient: Bool {
        switch self {
        case .submit, .status, .control: true
        default: false
        }
    }

    public var name: String {
        switch self {
        case .ready: "READY"
        case .heartbeat: "HEARTBEAT"
        case .task: "TASK"
        case .result: "RESULT"
        case .ack: "ACK"
        case .failed: "FAILED"
        case .disconnect: "DISCONNECT"
        case .revoke: "REVOKE"
        case .submit: "SUBMIT"
        case .submitted: "SUBMITTED"
        case .status: "STATUS"
        case .statusReply: "STATUS-REPLY"
        case .control: "CONTROL"
        case .error: "ERROR"
        }
    }
}
