import Foundation

/// Scheduling of the coordinator's background threads (an encode and its frame metrics): work
/// that only has to keep up, beside a loop that is on the critical path of every dispatch.
enum BackgroundThread {
    /// `SCHED_IDLE` (Linux; `<sched.h>` defines it only for `_GNU_SOURCE`, so Swift does not see it).
    private static let idlePolicy: Int32 = 5

    /// Puts the calling thread, and every process it starts afterwards (ffmpeg inherits it),
    /// behind every other thread: `SCHED_IDLE`, which gives the CPU up at once when the loop
    /// wakes. A nice value alone lets the running thread finish its slice first (about 1.5 ms on
    /// 2 cores under EEVDF), which was most of the loop's wait for a CPU at a wave of results
    /// (decision 0039). `niceness` stays set, for a kernel that refuses the policy.
    static func yield(niceness: Int32) {
        if let id = currentID() { setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id, niceness) }
        var parameters = sched_param()
        parameters.sched_priority = 0
        _ = sched_setscheduler(0, idlePolicy, &parameters)
    }

    /// The calling thread's kernel id (Linux: `/proc/thread-self` links to `PID/task/TID`).
    static func currentID() -> id_t? {
        var buffer = [CChar](repeating: 0, count: 64)
        let length = readlink("/proc/thread-self", &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        let path = String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return path.split(separator: "/").last.flatMap { id_t($0) }
    }
}
