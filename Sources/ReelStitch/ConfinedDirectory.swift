import Foundation
import ReelCore

/// A folder below a trusted root, opened one component at a time with `openat` and
/// `O_NOFOLLOW`, so no symbolic link anywhere below the root is followed, whenever it was made.
/// Files are created in it relative to its descriptor; nothing is opened by path again.
public final class ConfinedDirectory: Sendable {
    /// The open folder.
    public let descriptor: Int32
    /// Its path, for messages.
    public let path: String

    /// Opens `path` (absolute, inside `root`), making missing folders when `create`.
    /// `root` itself is the operator's and is opened as given.
    public init(root: String, path: String, create: Bool) throws {
        // Compared by components, without resolving anything (resolving would follow the links).
        let rootComponents = root.split(separator: "/").filter { $0 != "." }
        let targetComponents = path.split(separator: "/").filter { $0 != "." }
        guard root.hasPrefix("/") == path.hasPrefix("/"), targetComponents.starts(with: rootComponents),
            !targetComponents.contains("..")
        else {
            throw ReelError(.encode, "\(path) is not inside \(root)")
        }
        self.path = path
        var current = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard current >= 0 else { throw ReelError(.encode, "cannot open the output root \(root): \(Self.lastError())") }
        for component in targetComponents.dropFirst(rootComponents.count).map(String.init) {
            var next = openat(current, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if next < 0 && errno == ENOENT && create {
                if mkdirat(current, component, 0o755) != 0 && errno != EEXIST {
                    let error = Self.lastError()
                    close(current)
                    throw ReelError(.encode, "cannot make the folder \(component) of \(path): \(error)")
                }
                next = openat(current, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            let failure = errno
            close(current)
            guard next >= 0 else {
                let why = failure == ELOOP || failure == ENOTDIR ? "is a symbolic link or not a folder" : String(cString: strerror(failure))
                throw ReelError(.encode, "cannot open \(path): its component '\(component)' \(why)")
            }
            current = next
        }
        descriptor = current
    }

    deinit { close(descriptor) }

    /// Creates (or truncates) `name` for writing, never through a symbolic link.
    public func createFile(_ name: String, exclusive: Bool = false) throws -> Int32 {
        let flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC)
        let file = openat(descriptor, name, flags, 0o644)
        guard file >= 0 else { throw ReelError(.encode, "cannot create \(path)/\(name): \(Self.lastError())") }
        return file
    }

    /// Renames `from` to `to`, both in this folder (a link at `to` is replaced, not followed).
    public func rename(_ from: String, to: String) throws {
        guard renameat(descriptor, from, descriptor, to) == 0 else {
            throw ReelError(.encode, "cannot move \(path)/\(from) to \(to): \(Self.lastError())")
        }
    }

    /// Removes `name` from this folder, if it is there.
    public func remove(_ name: String) { unlinkat(descriptor, name, 0) }

    /// Writes `bytes` to `name` whole.
    public func write(_ name: String, _ bytes: [UInt8]) throws {
        let file = try createFile(name)
        defer { close(file) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Foundation.write(file, $0.baseAddress, $0.count) }
            guard written > 0 else { throw ReelError(.encode, "cannot write \(path)/\(name): \(Self.lastError())") }
            offset += written
        }
    }

    static func lastError() -> String { String(cString: strerror(errno)) }
}
