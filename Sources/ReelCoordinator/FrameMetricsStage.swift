import Foundation
import ReelMetrics
import Synchronization

/// Takes an encode's frame metrics on a thread of its own (at the encode's nice value), so the
/// encode thread only hands each frame over and goes on stitching: block matching is the
/// costliest step per frame. At most `depth` frames wait; they are measured in order, so the
/// report is the one a single thread would give.
final class FrameMetricsStage: Sendable {
    private struct Queue {
        var frames: [[UInt8]] = []
        var closed = false
    }

    private let queue = Mutex(Queue())
    private let available = DispatchSemaphore(value: 0)
    private let room: DispatchSemaphore
    private let drained = DispatchSemaphore(value: 0)
    private let outcome = Mutex<(report: FrameMetrics.Report, cpuSeconds: Double)?>(nil)

    init(_ metrics: FrameMetrics, depth: Int = 256, niceness: Int32) {
        room = DispatchSemaphore(value: depth)
        let thread = Thread { [self] in
            BackgroundThread.yield(niceness: niceness)
            var metrics = metrics
            while true {
                available.wait()
                let (frame, closed) = queue.withLock { queue in
                    queue.frames.isEmpty ? (nil, queue.closed) : (queue.frames.removeFirst(), false)
                }
                if let frame {
                    metrics.add(frame)
                    room.signal()
                } else if closed {
                    break
                }
            }
            let report = metrics.report()
            outcome.withLock { $0 = (report, CoordinatorMetrics.threadCPUSeconds()) }
            drained.signal()
        }
        thread.name = "reel-frame-metrics"
        thread.start()
    }

    /// Hands a frame over (waits while `depth` frames are waiting).
    func add(_ rgb: [UInt8]) {
        room.wait()
        queue.withLock { $0.frames.append(rgb) }
        available.signal()
    }

    /// No more frames: the thread measures what waits and ends. Once only.
    func close() {
        let first = queue.withLock { queue in
            defer { queue.closed = true }
            return !queue.closed
        }
        if first { available.signal() }
    }

    /// Closes, waits for every frame handed over to be measured, and returns the report and
    /// the CPU seconds the thread used.
    func finish() -> (report: FrameMetrics.Report, cpuSeconds: Double) {
        close()
        drained.wait()
        drained.signal()
        return outcome.withLock { $0! }
    }
}
