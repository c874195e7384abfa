import Foundation
import ReelCore
import ReelStitch
import Synchronization

/// Builds tasks' conditioning (a seam's stitched window, a chunk's keyframes, a decode
/// window's latents) from committed outputs on a few threads beside the coordinator's, so
/// the socket loop never stitches: it hands a dispatch over with ``submit(_:artifacts:)``
/// and later sends what ``takeDone()`` returns. Work is bounded by the dispatches in flight
/// (at most every worker's slots and prefetch), and the threads are a fixed few.
final class ConditioningPool: Sendable {
    /// A dispatch whose conditioning is built (or could not be).
    struct Done: Sendable {
        var dispatch: DeferredDispatch
        var failure: ReelError?
        /// Seconds spent building it.
        var seconds: Double
    }

    private struct Work: Sendable {
        let dispatch: DeferredDispatch
        let artifacts: JobArtifacts
    }

    private let queue = Mutex<[Work]>([])
    private let done = Mutex<[Done]>([])
    private let inFlight = Atomic<Int>(0)
    private let stopped = Atomic<Bool>(false)
    private let signal = DispatchSemaphore(value: 0)
    let threadCount: Int

    init(threads: Int = min(4, max(2, ProcessInfo.processInfo.activeProcessorCount))) {
        threadCount = threads
        for index in 0..<threads {
            let thread = Thread { [self] in serve() }
            thread.name = "reel-conditioning-\(index)"
            thread.start()
        }
    }

    /// Whether a task needs conditioning built from committed outputs: one that depends on others.
    static func needsConditioning(_ dispatch: DeferredDispatch, plan: Plan) -> Bool {
        !plan.units[dispatch.unit].dependencies.isEmpty
    }

    /// Queues `dispatch` to have its conditioning built from `artifacts`.
    func submit(_ dispatch: DeferredDispatch, artifacts: JobArtifacts) {
        inFlight.add(1, ordering: .relaxed)
        queue.withLock { $0.append(Work(dispatch: dispatch, artifacts: artifacts)) }
        signal.signal()
    }

    /// Dispatches submitted and not yet taken back with ``takeDone()``.
    var pending: Int { inFlight.load(ordering: .relaxed) }

    /// The dispatches built since the last call.
    func takeDone() -> [Done] {
        let list = done.withLock { list in
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
            guard let work = queue.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { continue }
            let started = Date()
            var dispatch = work.dispatch
            var failure: ReelError?
            do {
                let artifacts = work.artifacts
                dispatch.assignment.conditioning = try ConditioningAssembler(
                    spec: artifacts.spec, plan: artifacts.plan, latents: artifacts.latents, frame: artifacts.frame
                ).conditioning(unit: dispatch.unit)
            } catch {
                failure = error as? ReelError ?? ReelError(.artifact, "\(error)")
            }
            let finished = Done(dispatch: dispatch, failure: failure, seconds: Date().timeIntervalSince(started))
            done.withLock { $0.append(finished) }
        }
    }
}
