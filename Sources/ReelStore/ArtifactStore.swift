import CPlatform
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

    /// Writes `bytes` durably at `relativePath`.
    public func write(_ bytes: [UInt8], to relativePath: String) throws {
        if let error = writeAll([(relativePath, bytes)])[0] { throw error }
    }

    /// Writes several files durably with one flush of the file system (a group commit):
    /// each goes to a temporary name, then one `syncfs`, then the renames, then one fsync per
    /// directory. Returns, per file, nil or the error that kept it from being written.
    public func writeAll(_ files: [(path: String, bytes: [UInt8])]) -> [ReelError?] {
        var errors = [ReelError?](repeating: nil, count: files.count)
        var written: [(index: Int, temporary: String, final: String)] = []
        var directories: Set<String> = []
        var syncFD: Int32 = -1
        for (index, file) in files.enumerated() {
            let path = "\(root)/\(file.path)"
            let directory = (path as NSString).deletingLastPathComponent
            do {
                if !directories.contains(directory) { try Self.makeDirectory(directory) }
                directories.insert(directory)
                let temporary = "\(path).tmp-\(getpid())"
                let fd = try Self.writeFile(file.bytes, to: temporary)
                if syncFD < 0 { syncFD = fd } else { close(fd) }
                written.append((index, temporary, path))
            } catch {
                errors[index] = error as? ReelError ?? ReelError(.artifact, "\(error)")
            }
        }
        guard !written.isEmpty else { return errors }
        // One syncfs flushes every file written above (and its metadata) to stable storage.
        let synced = written.count == 1 ? fsync(syncFD) : reel_syncfs(syncFD)
        let syncError = synced == 0 ? nil : Self.failure("flush of \(written.count) artifact(s)")
        close(syncFD)
        for entry in written {
            if let syncError {
                errors[entry.index] = syncError
                unlink(entry.temporary)
            } else if rename(entry.temporary, entry.final) != 0 {
                errors[entry.index] = Self.failure("rename \(entry.temporary)")
                unlink(entry.temporary)
            }
        }
        for directory in directories.sorted() {
            let directoryFD = open(directory, O_RDONLY | O_DIRECTORY)
            if directoryFD >= 0 { fsync(directoryFD); close(directoryFD) }
        }
        return errors
    }

    /// Writes a whole file (not yet flushed); returns its open descriptor.
    private static func writeFile(_ bytes: [UInt8], to temporary: String) throws -> Int32 {
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw failure("create \(temporary)") }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, bytes.count - written) }
            if result < 0 {
                if errno == EINTR { continue }
                let error = failure("write \(temporary)")
                close(fd)
                unlink(temporary)
                throw error
            }
            written += result
        }
        return fd
    }

    /// Reads `count` bytes at `offset` of the artifact at `relativePath`.
    public func read(_ relativePath: String, offset: Int, count: Int) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: "\(root)/\(relativePath)") else {
            throw ReelError(.artifact, "artifact \(root)/\(relativePath) is missing or unreadable")
        }
        defer { try? handle.close() }
        do {
            try handle.seek(toOffset: UInt64(offset))
            let data = try handle.read(upToCount: count) ?? Data()
            guard data.count == count else {
                throw ReelError(.artifact, "artifact \(relativePath) is shorter than \(offset + count) bytes")
            }
            return [UInt8](data)
        } catch let error as ReelError { throw error } catch {
            throw ReelError(.artifact, "cannot read \(relativePath): \(error.localizedDescription)")
        }
    }

    /// Reads the artifact at `relativePath`.
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
