import Foundation
import ReelCore

/// Wakes the coordinator's poll from another thread: a non-blocking pipe whose read end the
/// loop polls beside its sockets. A thread that hands the loop something (a built
/// conditioning, a finished encode, a durable group commit) appends it, then calls ``wake()``; the loop calls
/// ``drain()`` and then takes what was handed. A wake that lands between the two costs one
/// more turn at most, and none is lost, so the loop needs no short timeouts to notice them.
final class LoopWaker: Sendable {
    private let read: Int32
    private let write: Int32

    /// Readable after a ``wake()`` until ``drain()``: poll it beside the sockets.
    var descriptor: Int32 { read }

    init() throws {
        var ends: [Int32] = [-1, -1]
        guard Glibc.pipe(&ends) == 0 else {
            throw ReelError(.store, "cannot make the loop's wake pipe: \(String(cString: strerror(errno)))")
        }
        for end in ends {
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        (read, write) = (ends[0], ends[1])
    }

    deinit {
        close(read)
        close(write)
    }

    /// Makes ``descriptor`` readable (a full pipe is readable already).
    func wake() {
        var byte: UInt8 = 1
        _ = Glibc.write(write, &byte, 1)
    }

    /// Empties the pipe.
    func drain() {
        var bytes = [UInt8](repeating: 0, count: 64)
        while Glibc.read(read, &bytes, bytes.count) > 0 {}
    }
}
