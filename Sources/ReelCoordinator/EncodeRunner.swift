import Foundation
import ReelCore
import ReelMetrics
import ReelPlan
import ReelStitch
import ReelStore
import Synchronization

/// Runs each job's stitch-and-encode on a thread of its own from the moment the job is
/// loaded, beside the render: frames stream into ffmpeg in order as soon as the units that
/// cover them are committed (a read waits for its unit), so when the last task commits only
/// the tail is left to encode. The coordinator's socket loop collects finished encodes with
/// ``takeFinished()``.
///
/// Crash-only: an encode that is interrupted (the coordinator killed, a committed unit
/// reopened for recomputation) starts again from the first frame; the output is a pure
/// function of the committed units, so it is byte-identical (decision 0024).
final class EncodeRunner: Sendable {
    /// An encode that ended (`result`), or, later, the consistency report of a done job.
    struct Finished: Sendable {
        let job: Int64
        let result: Result<VideoAssembler.Outcome, ReelError>?
        let consistency: ConsistencyReport?
    }

    /// What the coordinator asks of a running encode; its thread checks before every read.
    private enum Control: Sendable { case run, restart, cancel }

    private enum Interruption: Error { case restart, cancel }

    private let finished = Mutex<[Finished]>([])
    private let progress = Mutex<[Int64: Int]>([:])
    private let controls = Mutex<[Int64: Control]>([:])
    private let cpu = Mutex<Double>(0)
    /// The encode thread's (and its ffmpeg's) nice value.
    static let niceness: Int32 = 19
    /// How often a read waiting for its unit (woken by its commit) looks whether to stop or start over.
    static let controlSeconds = 0.05
    /// Woken when an encode ends (or its scoring does), so the loop sees it at once.
    private let waker: LoopWaker?

    init(waker: LoopWaker? = nil) { self.waker = waker }

    /// Starts assembling a job's video from its outputs as they are committed, unless an
    /// encode of it runs already; its files stay inside `root`.
    func start(_ committed: JobArtifacts, root: String) {
        let job = committed.job
        let fresh = controls.withLock { controls in
            // One being cancelled is still on its thread: it starts over instead.
            if controls[job] == .cancel { controls[job] = .restart }
            guard controls[job] == nil else { return false }
            controls[job] = .run
            return true
        }
        guard fresh else { return }
        progress.withLock { $0[job] = 0 }
        let thread = Thread { [self] in
            // Behind the coordinator's thread: the encode only has to keep up, dispatch is on the critical path.
            BackgroundThread.yield(niceness: Self.niceness)
            var result: Result<VideoAssembler.Outcome, ReelError>?
            var scoring: (() -> ConsistencyReport?)?
            while result == nil {
                do {
                    let (outcome, score) = try encode(committed, root: root)
                    result = .success(outcome)
                    scoring = score
                } catch Interruption.restart {
                    progress.withLock { $0[job] = 0 }
                    controls.withLock { $0[job] = .run }
                } catch Interruption.cancel {
                    break
                } catch let error as ReelError {
                    result = .failure(error)
                } catch {
                    result = .failure(ReelError(.encode, "\(error)"))
                }
            }
            controls.withLock { $0[job] = nil }
            cpu.withLock { $0 += CoordinatorMetrics.threadCPUSeconds() }
            guard let result else { return }
            // The job is done as soon as its video is: deleting its progressive file (a long
            // video's frees many blocks) and scoring it (minutes for a long video) come after.
            self.finished.withLock { $0.append(Finished(job: job, result: result, consistency: nil)) }
            waker?.wake()
            if case .success = result { FFmpegEncoder.discardProgressive(of: committed.spec.output, root: root) }
            if let report = scoring?() {
                self.finished.withLock { $0.append(Finished(job: job, result: nil, consistency: report)) }
                waker?.wake()
            }
        }
        thread.name = "reel-encode-\(job)"
        thread.start()
    }

    /// One pass from the first frame; throws ``Interruption`` when asked to stop or start over.
    private func encode(_ committed: JobArtifacts, root: String) throws -> (VideoAssembler.Outcome, (() -> ConsistencyReport?)?) {
        let job = committed.job, spec = committed.spec, plan = committed.plan
        let read = { (unit: Int) throws -> [Float] in
            try self.waitUntilCommitted(unit, of: committed)
            return try committed.latents(unit)
        }
        let load = { (chunk: Chunk) throws -> [Float] in try read(plan.unit(.chunks, chunk.index)!) }
        let seams = SeamOverride(plan: plan, read: read)
        let report = { (frames: Int) in self.progress.withLock { $0[job] = frames } }
        let outcome =
            plan.decodes.isEmpty
            ? try VideoAssembler.assemble(
                spec: spec, plan: plan, root: root, progressive: true, niceness: Self.niceness, load: load, override: seams.frame,
                progress: report)
            : try VideoAssembler.assembleDecoded(
                spec: spec, plan: plan, root: root, progressive: true, niceness: Self.niceness, load: load, override: seams.frame,
                pixels: { window in try read(plan.unit(.decode, window.index)!) }, progress: report)
        // Frame metrics are taken after the video is done, from the committed units stitched again (decision 0044):
        // block matching beside the encode held it back, so the last wave's frames waited for it.
        let scoring: (() -> ConsistencyReport?)? =
            spec.backend == .procedural ? { try? Self.score(committed) } : nil
        return (outcome, scoring)
    }

    /// A procedural job's consistency report: the frame metrics of the frames its video was
    /// encoded from (stitched again from the committed units), then the oracle's readings.
    private static func score(_ committed: JobArtifacts) throws -> ConsistencyReport {
        let spec = committed.spec, plan = committed.plan
        var metrics = FrameMetrics(plan: plan, fps: spec.fps, width: spec.width, height: spec.height)
        _ = try VideoAssembler.stitch(
            spec: spec, plan: plan, load: { chunk in try committed.latents(plan.unit(.chunks, chunk.index)!) },
            override: SeamOverride(plan: plan, read: committed.latents).frame
        ) { _, rgb in metrics.add(rgb) }
        return try ConsistencyScorer.score(spec: spec, plan: plan, frames: metrics.report(), read: committed.latents)
    }

    /// Returns once `unit` is committed; throws when the encode is to stop or start over.
    private func waitUntilCommitted(_ unit: Int, of committed: JobArtifacts) throws {
        while true {
            switch controls.withLock({ $0[committed.job] }) {
            case .restart: throw Interruption.restart
            case .cancel, nil: throw Interruption.cancel
            case .run: break
            }
            if committed.index.waitUntilCommitted(unit, seconds: Self.controlSeconds) { return }
        }
    }

    /// Makes a running encode of `job` start over from its first frame (a unit it may have
    /// read was reopened); nothing when none runs.
    func restart(job: Int64) {
        controls.withLock { if $0[job] == .run { $0[job] = .restart } }
    }

    /// Stops a running encode of `job` (the job was cancelled or failed); its partial files
    /// are removed and nothing is reported.
    func cancel(job: Int64) {
        controls.withLock { if $0[job] != nil { $0[job] = .cancel } }
        progress.withLock { $0[job] = nil }
    }

    /// CPU seconds the encode threads that ended used (stitching, decoding, frame metrics, the
    /// pipe to ffmpeg; ffmpeg's own process is not counted).
    var cpuSeconds: Double { cpu.withLock { $0 } }

    /// Whether any encode is running.
    var isBusy: Bool { controls.withLock { !$0.isEmpty } }

    /// Whether an encode of `job` is running.
    func isRunning(job: Int64) -> Bool { controls.withLock { $0[job] != nil } }

    func takeFinished() -> [Finished] {
        finished.withLock { list in
            defer { list.removeAll() }
            return list
        }
    }

    /// Frames of `job` written to ffmpeg so far by the running encode (its frontier).
    func framesEncoded(job: Int64) -> Int? { progress.withLock { $0[job] } }

    func forget(job: Int64) { progress.withLock { $0[job] = nil } }
}
