/// What `reel status` shows: sent as JSON in STATUS-REPLY.
public struct StatusReport: Sendable, Codable, Hashable {
    public struct Job: Sendable, Codable, Hashable {
        public var id: Int64
        public var name: String
        /// running, encoding, done or failed.
        public var state: String
        public var reason: String?
        public var output: String
        public var chunksDone: Int
        public var chunksTotal: Int
        public var framesEncoded: Int
        public var framesTotal: Int
        public var createdAt: Double
        public var updatedAt: Double
        public var latentChecksum: String?
        public var frameChecksum: String?

        public init(
            id: Int64, name: String, state: String, reason: String?, output: String, chunksDone: Int, chunksTotal: Int,
            framesEncoded: Int, framesTotal: Int, createdAt: Double, updatedAt: Double,
            latentChecksum: String?, frameChecksum: String?
        ) {
            self.id = id
            self.name = name
            self.state = state
            self.reason = reason
            self.output = output
            self.chunksDone = chunksDone
            self.chunksTotal = chunksTotal
            self.framesEncoded = framesEncoded
            self.framesTotal = framesTotal
            self.createdAt = createdAt
            self.updatedAt = updatedAt
            self.latentChecksum = latentChecksum
            self.frameChecksum = frameChecksum
        }
    }

    public var jobs: [Job]
    /// Live workers and the leases each holds.
    public var workers: [String: Int]
    /// Messages dropped because they were malformed, stale or unexpected.
    public var droppedMessages: Int

    public init(jobs: [Job], workers: [String: Int], droppedMessages: Int) {
        self.jobs = jobs
        self.workers = workers
        self.droppedMessages = droppedMessages
    }
}

/// Turns ZeroMQ routing ids into printable keys and back (one scalar per byte, reversible).
public enum RoutingIdentity {
    public static func key(_ bytes: [UInt8]) -> String {
        // Every message's sender goes through here: ASCII ids (all of Reel's) are their own UTF-8.
        if bytes.allSatisfy({ $0 < 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
        return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
    }

    public static func bytes(_ key: String) -> [UInt8] {
        key.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }
    }
}
