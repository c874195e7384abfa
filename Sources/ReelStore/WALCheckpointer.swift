import Foundation
import GRDB
import Synchronization

/// Runs the WAL checkpoints of a store on a thread and connection of their own, so the
/// coordinator's thread never stops to copy the log into the database (SQLite otherwise
/// does it inside whichever commit crosses 1000 pages, stalling that commit for
/// milliseconds). Passive checkpoints never block the writer.
public final class WALCheckpointer: Sendable {
    private final class Flag: Sendable {
        let stopped = Atomic<Bool>(false)
    }

    private let flag = Flag()

    /// Turns automatic checkpoints off for `store`'s connection and starts checkpointing its
    /// file every `seconds`.
    public init(store: Store, every seconds: Double = 0.5) throws {
        try store.disableAutomaticCheckpoints()
        let connection = try DatabaseQueue(path: store.path)
        let flag = self.flag
        let thread = Thread {
            while !flag.stopped.load(ordering: .relaxed) {
                Thread.sleep(forTimeInterval: seconds)
                _ = try? connection.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(PASSIVE)") }
            }
        }
        thread.name = "reel-wal-checkpoint"
        thread.start()
    }

    /// Stops the thread after its current sleep.
    public func stop() { flag.stopped.store(true, ordering: .relaxed) }

    deinit { stop() }
}
