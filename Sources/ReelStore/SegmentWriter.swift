import Foundation
import Glibc
import ReelCore
import Synchronization

/// Where an artifact's bytes are: a range of a segment file (`PATH@OFFSET:LENGTH`, relative to
/// the artifact store), or a whole file (`PATH`, as stores before segments wrote them).
public struct ArtifactLocation: Sendable, Hashable, CustomStringConvertible {
    public var path: String
    public var offset: Int
    /// Nil: the whole file.
    public var length: Int?

    public init(path: String, offset: Int = 0, length: Int? = nil) {
        self.path = path
        self.offset = offset
        self.length = length
    }

    /// Parses the form stored in a task row; nil when it is malformed.
    public init?(_ text: String) {
        guard let at = text.lastIndex(of: "@") else {
            guard !text.isEmpty else { return nil }
            self.init(path: text)
            return
        }
        let range = text[text.index(after: at)...].split(separator: ":")
        guard range.count == 2, let offset = Int(range[0]), let length = Int(range[1]), offset >= 0, length >= 0 else { return nil }
        self.init(path: String(text[..<at]), offset: offset, length: length)
    }

    public var description: String { length.map { "\(path)@\(offset):\($0)" } ?? path }
}

/// Appends results to one open segment file per job (rotated at `rotateBytes`), so a group
/// commit costs one `fdatasync` per job touched instead of a file creation, an fsync and a
/// directory fsync per result. A segment is never appended to after a failed write, nor by
/// a later coordinator run or another writer (names carry the run's start time, process id and
/// the writer's number in the process), so bytes past the last committed range are never
/// reused. Owned by one thread.
public final class SegmentWriter {
    struct Segment {
        let fd: Int32
        let path: String
        var size: Int
    }

    public let store: ArtifactStore
    public let rotateBytes: Int
    private let run = "\(Int(Date().timeIntervalSince1970 * 1000))-\(getpid())-\(SegmentWriter.writers.add(1, ordering: .relaxed).oldValue)"
    private var sequence = 0
    private var open: [Int64: Segment] = [:]
    /// Writers made in this process so far: two made in the same millisecond get different names.
    private static let writers = Atomic<Int>(0)

    public init(store: ArtifactStore, rotateBytes: Int = 256 << 20) {
        self.store = store
        self.rotateBytes = rotateBytes
    }

    deinit { for segment in open.values { close(segment.fd) } }

    /// Appends each payload to its job's segment, makes every touched segment durable (and
    /// the directory of any new one), and returns each payload's location, or the error that
    /// kept it from becoming durable.
    public func append(_ items: [(job: Int64, bytes: [UInt8])]) -> [Result<ArtifactLocation, ReelError>] {
        var results = [Result<ArtifactLocation, ReelError>](repeating: .failure(ReelError(.artifact, "not written")), count: items.count)
        var pending: [Int64: [(index: Int, location: ArtifactLocation)]] = [:]
        var newDirectories: Set<String> = []
        for (index, item) in items.enumerated() {
            do {
                var segment = try segment(for: item.job, newDirectories: &newDirectories)
                try Self.writeAll(item.bytes, to: segment.fd, path: segment.path)
                pending[item.job, default: []].append(
                    (index, ArtifactLocation(path: segment.path, offset: segment.size, length: item.bytes.count)))
                segment.size += item.bytes.count
                open[item.job] = segment
            } catch {
                results[index] = .failure(error as? ReelError ?? ReelError(.artifact, "\(error)"))
                retire(item.job)
                // Whatever this segment already took in this batch is not flushed: fail it too.
                for entry in pending.removeValue(forKey: item.job) ?? [] { results[entry.index] = results[index] }
            }
        }
        for (job, entries) in pending {
            guard let segment = open[job] else { continue }
            if fdatasync(segment.fd) == 0 {
                for entry in entries { results[entry.index] = .success(entry.location) }
            } else {
                let error = ArtifactStore.failure("flush \(segment.path)")
                for entry in entries { results[entry.index] = .failure(error) }
                retire(job)
            }
        }
        for directory in newDirectories.sorted() {
            let fd = Glibc.open(directory, O_RDONLY | O_DIRECTORY)
            if fd >= 0 { fsync(fd); close(fd) }
        }
        return results
    }

    private func segment(for job: Int64, newDirectories: inout Set<String>) throws -> Segment {
        if let segment = open[job], segment.size < rotateBytes { return segment }
        retire(job)
        sequence += 1
        let path = "job-\(job)/seg-\(run)-\(String(format: "%05d", sequence)).f16"
        let full = "\(store.root)/\(path)"
        let directory = (full as NSString).deletingLastPathComponent
        try ArtifactStore.makeDirectory(directory)
        let fd = Glibc.open(full, O_WRONLY | O_CREAT | O_EXCL | O_APPEND, 0o644)
        guard fd >= 0 else { throw ArtifactStore.failure("create \(full)") }
        newDirectories.insert(directory)
        return Segment(fd: fd, path: path, size: 0)
    }

    private func retire(_ job: Int64) {
        if let segment = open.removeValue(forKey: job) { close(segment.fd) }
    }

    private static func writeAll(_ bytes: [UInt8], to fd: Int32, path: String) throws {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, bytes.count - written) }
            if result < 0 {
                if errno == EINTR { continue }
                throw ArtifactStore.failure("append to \(path)")
            }
            written += result
        }
    }
}
