import Foundation
import ReelCore
import ReelStore
import Synchronization

/// Makes a group commit's results durable on a thread of its own: appends them to their
/// jobs' segments and waits out the `fdatasync`, while the coordinator's loop goes on serving
/// (sending tasks, collecting conditioning, taking in the next group's results). One group
/// is in flight at a time, so segments grow in commit order; the loop records the rows and
/// sends the ACKs once ``takeWritten()`` hands the group back (decision 0032). A written group
/// makes ``wakeDescriptor`` readable, so the loop's poll wakes at once.
final class SegmentAppender: Sendable {
    typealias Item = (job: Int64, bytes: [UInt8])
    typealias Written = [Result<ArtifactLocation, ReelError>]

    private struct State {
        var queued: [Item]?
        var written: Written?
        var busy = false
        var stopped = false
    }

    private let writer: Mutex<SegmentWriter>
    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    /// The pipe a written group is signalled on.
    private let signal: LoopWaker

    /// Readable while a written group waits to be taken: poll it beside the sockets.
    var wakeDescriptor: Int32 { signal.descriptor }

    init(store: ArtifactStore) throws {
        signal = try LoopWaker()
        writer = Mutex(SegmentWriter(store: store))
        let thread = Thread { [self] in serve() }
        thread.name = "reel-group-commit"
        thread.start()
    }

    /// Whether a group is being written or waits to be taken.
    var isBusy: Bool { state.withLock { $0.busy } }

    /// Starts writing a group. Precondition: not ``isBusy``.
    func start(_ items: [Item]) {
        state.withLock { state in
            precondition(!state.busy, "a group commit is already in flight")
            state.queued = items
            state.busy = true
        }
        wake.signal()
    }

    /// The group's locations (or the error that kept each from becoming durable), in the order
    /// given, once written; nil while it is still being written or none was started.
    func takeWritten() -> Written? {
        state.withLock { state in
            guard let written = state.written else { return nil }
            state.written = nil
            state.busy = false
            signal.drain()
            return written
        }
    }

    /// Waits for the group in flight and takes it (nil when none is).
    func waitWritten() -> Written? {
        guard isBusy else { return nil }
        while true {
            if let written = takeWritten() { return written }
            // (A signal left by a group taken without waiting only costs one more look.)
            done.wait()
        }
    }

    /// Ends the thread once the group in flight is written.
    func stop() {
        state.withLock { $0.stopped = true }
        wake.signal()
    }

    private func serve() {
        while true {
            wake.wait()
            let (items, stopped) = state.withLock { state in
                defer { state.queued = nil }
                return (state.queued, state.stopped)
            }
            if let items {
                let written = writer.withLock { $0.append(items) }
                // Published and signalled under the lock that taking it clears both under, so
                // the pipe holds a byte exactly while a written group waits (else a byte
                // written after its group was taken would keep the loop's poll spinning).
                state.withLock { state in
                    state.written = written
                    signal.wake()
                }
                done.signal()
            }
            if stopped { return }
        }
    }
}
