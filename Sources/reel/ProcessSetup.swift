import Foundation
import Synchronization

/// Set by SIGINT or SIGTERM; long-running loops poll it and stop cleanly.
let stopRequested = Atomic<Bool>(false)

/// Process-wide setup for commands that run loops or write to ffmpeg.
enum ProcessSetup {
    static func start() {
        // A parent that spawned us from a thread with signals blocked (Foundation's Process
        // does) passes that mask down through exec: unblock everything, or SIGTERM never arrives.
        var none = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, nil)
        // A dead ffmpeg must surface as a write error, not kill us silently with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        signal(SIGINT) { _ in stopRequested.store(true, ordering: .relaxed) }
        signal(SIGTERM) { _ in stopRequested.store(true, ordering: .relaxed) }
    }

    static var shouldStop: Bool { stopRequested.load(ordering: .relaxed) }

    /// The path of this executable, to start coordinator and worker processes from `render`.
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}
