import Foundation
import Glibc
import ReelCore

/// Artifact files (chunk latents) under one directory: written to a temporary name, fsynced,
/// renamed into place, and the directory fsynced, so a file that exists is whole.
public struct ArtifactStore: Sendable {
    public let root: String

    public init(root: String) throws {
        self.root = root
        try Self.makeDirectory(root)
    }

    /// The relative path of a chunk's latents.
    public func chunkPath(job: Int64, stage: String, chunk: Int) -> String {
        "job-\(job)/\(stage)-\(String(format: "%05d", chunk)).f16"
    }

    /// Writes `bytes` durably at `relativePath`: a temporary name, fsync, rename, directory fsync.
    public func write(_ bytes: [UInt8], to relativePath: String) throws {
        let path = "\(root)/\(relativePath)"
        let directory = (path as NSString).deletingLastPathComponent
        try Self.makeDirectory(directory)
        let temporary = "\(path).tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw Self.failure("create \(temporary)") }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, bytes.count - written) }
            if result < 0 {
                if errno == EINTR { continue }
                let error = Self.failure("write \(temporary)")
                close(fd)
                unlink(temporary)
                throw error
            }
            written += result
        }
        if fsync(fd) != 0 { let error = Self.failure("fsync \(temporary)"); close(fd); unlink(temporary); throw error }
        close(fd)
        guard rename(temporary, path) == 0 else { let error = Self.failure("rename \(temporary)"); unlink(temporary); throw error }
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY)
        if directoryFD >= 0 { fsync(directoryFD); close(directoryFD) }
    }

    /// An artifact's bytes: its whole range, or `count` bytes from `offset` within it.
    public func read(_ location: ArtifactLocation, offset: Int = 0, count: Int? = nil) throws -> [UInt8] {
        guard let length = location.length else {
            if let count { return try read(location.path, offset: offset, count: count) }
            return Array(try read(location.path).dropFirst(offset))
        }
        let wanted = count ?? (length - offset)
        guard offset >= 0, wanted >= 0, offset + wanted <= length else {
            throw ReelError(.artifact, "range \(offset)+\(wanted) is outside artifact \(location)")
        }
        return try read(location.path, offset: location.offset + offset, count: wanted)
    }

    /// Reads `count` bytes at `offset` of the artifact at `relativePath` (one `pread`, no
    /// Foundation buffers: conditioning and the encode read this way per unit and per frame).
    public func read(_ relativePath: String, offset: Int, count: Int) throws -> [UInt8] {
        let path = "\(root)/\(relativePath)"
        let file = open(path, O_RDONLY | O_CLOEXEC)
        guard file >= 0 else { throw ReelError(.artifact, "artifact \(path) is missing or unreadable") }
        defer { close(file) }
        var done = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            while done < count, let base = buffer.baseAddress {
                let got = pread(file, base + done, count - done, off_t(offset + done))
                if got < 0 && errno == EINTR { continue }
                guard got > 0 else { break }
                done += got
            }
            initialized = done
        }
        guard done == count else { throw ReelError(.artifact, "artifact \(relativePath) is shorter than \(offset + count) bytes") }
        return bytes
    }

    public func read(_ relativePath: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: "\(root)/\(relativePath)") else {
            throw ReelError(.artifact, "artifact \(root)/\(relativePath) is missing or unreadable")
        }
        return [UInt8](data)
    }

    /// Creates `path` and its parents if missing.
    public static func makeDirectory(_ path: String) throws {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw ReelError(.artifact, "cannot create directory \(path): \(error.localizedDescription)")
        }
    }

    static func failure(_ what: String) -> ReelError {
        let code = errno
        return ReelError(
            code == ENOSPC || code == EDQUOT ? .diskFull : .artifact, "\(what): \(String(cString: strerror(code))) (errno \(code))")
    }

    /// Writes and removes a probe file of `bytes` bytes: true when the disk has that much room.
    public func hasRoom(bytes: Int) -> Bool {
        do {
            try write([UInt8](repeating: 0, count: bytes), to: ".space-probe")
            unlink("\(root)/.space-probe")
            return true
        } catch {
            unlink("\(root)/.space-probe")
            return false
        }
    }
}
