import Foundation
import ReelCore
import ReelStitch
import ReelWire
import Synchronization

/// Builds tasks' conditioning (a seam's stitched window, a chunk's keyframes, a decode
/// window's latents) from committed outputs on a few threads beside the coordinator's, so
/// the socket loop never stitches: it asks with ``submit(_:)`` and collects what
/// ``takeBuilt()`` returns. The threads are a fixed few; what is asked is bounded by the
/// coordinator (``Coordinator/prepareAwaiting()``).
final class ConditioningPool: Sendable {
    /// One task's conditioning to build: `serial` tells a build apart from an older one of the same task.
    struct Request: Sendable {
        let task: Int64
        let unit: Int
        let serial: Int
        let artifacts: JobArtifacts
    }

    /// A built conditioning (or why it could not be).
    struct Built: Sendable {
        let task: Int64
        let serial: Int
        let result: Result<EncodedConditioning, ReelError>
        /// Seconds spent building it.
        let seconds: Double
    }

    /// Builds a dispatch waits for, then builds ahead of time, each in order.
    private let queue = Mutex<(urgent: [Request], ahead: [Request])>(([], []))
    private let built = Mutex<[Built]>([])
    private let inFlight = Atomic<Int>(0)
    private let stopped = Atomic<Bool>(false)
    private let signal = DispatchSemaphore(value: 0)
    let threadCount: Int

    /// Woken when a build lands, so the loop takes it at once.
    private let waker: LoopWaker?

    /// One thread per core but one, up to 4: a core is left to the loop, which a wave of
    /// builds on every core kept waiting for a CPU (decision 0039).
    init(threads: Int = min(4, max(1, ProcessInfo.processInfo.activeProcessorCount - 1)), waker: LoopWaker? = nil) {
        threadCount = threads
        self.waker = waker
        for index in 0..<threads {
            let thread = Thread { [self] in serve() }
            thread.name = "reel-conditioning-\(index)"
            thread.start()
        }
    }

    /// Whether a unit needs conditioning built from committed outputs: one that depends on others.
    static func needsConditioning(unit: Int, plan: Plan) -> Bool { !plan.units[unit].dependencies.isEmpty }

    /// Queues a build; `urgent` (a dispatch waits for it) goes before every build ahead of time.
    func submit(_ request: Request, urgent: Bool) {
        inFlight.add(1, ordering: .relaxed)
        queue.withLock { if urgent { $0.urgent.append(request) } else { $0.ahead.append(request) } }
        signal.signal()
    }

    /// Moves a build asked ahead of time to the urgent queue once a dispatch waits for it (no
    /// second build); nothing when it is no longer queued (being built, or built: it lands soon).
    func promote(task: Int64, serial: Int) {
        queue.withLock { queue in
            guard let position = queue.ahead.firstIndex(where: { $0.task == task && $0.serial == serial }) else { return }
            queue.urgent.append(queue.ahead.remove(at: position))
        }
    }

    /// Requests submitted whose result was not yet taken with ``takeBuilt()``.
    var pending: Int { inFlight.load(ordering: .relaxed) }

    /// What was built since the last call.
    func takeBuilt() -> [Built] {
        let list = built.withLock { list in
            defer { list.removeAll() }
            return list
        }
        inFlight.subtract(list.count, ordering: .relaxed)
        return list
    }

    /// Ends the threads once they finish what they are building.
    func stop() {
        stopped.store(true, ordering: .relaxed)
        for _ in 0..<threadCount { signal.signal() }
    }

    private func serve() {
        while true {
            signal.wait()
            if stopped.load(ordering: .relaxed) { return }
            let next = queue.withLock { queue -> Request? in
                if !queue.urgent.isEmpty { return queue.urgent.removeFirst() }
                return queue.ahead.isEmpty ? nil : queue.ahead.removeFirst()
            }
            guard let request = next else { continue }
            let started = Date()
            let result: Result<EncodedConditioning, ReelError>
            do {
                let artifacts = request.artifacts
                // Encoded here, in its wire form, so that sending it is a copy on the loop's thread.
                result = .success(
                    EncodedConditioning(
                        try ConditioningAssembler(spec: artifacts.spec, plan: artifacts.plan, latents: artifacts.latents, frame: artifacts.frame)
                            .conditioning(unit: request.unit)))
            } catch {
                result = .failure(error as? ReelError ?? ReelError(.artifact, "\(error)"))
            }
            let entry = Built(task: request.task, serial: request.serial, result: result, seconds: Date().timeIntervalSince(started))
            built.withLock { $0.append(entry) }
            waker?.wake()
        }
    }
}
