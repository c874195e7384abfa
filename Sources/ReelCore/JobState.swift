/// Where a job is in its life.
public enum JobState: String, Sendable, Codable, Hashable {
    /// Chunks are being sampled.
    case running
    /// No new chunks are dispatched (by request, or because the disk is full); resumable.
    case paused
    /// All chunks are committed; the video is being stitched and encoded.
    case encoding
    case done
    /// Stopped with a reason (a chunk kept failing, encoding failed); resumable.
    case failed
    /// Stopped by request; resumable.
    case cancelled

    /// States a job can be resumed from.
    public var isResumable: Bool { self == .paused || self == .failed || self == .cancelled }
}

/// What a client can ask of a job.
public enum JobControl: String, Sendable, Codable, Hashable, CaseIterable {
    case pause, resume, cancel
}
