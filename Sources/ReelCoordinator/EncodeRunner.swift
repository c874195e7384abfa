import Foundation
import ReelCore
import ReelMetrics
import ReelPlan
import ReelStitch
import ReelStore
import Synchronization

/// Runs stitch-and-encode jobs on their own threads, so the coordinator's socket loop keeps
/// serving workers meanwhile; the loop collects finished ones with ``takeFinished()``.
final class EncodeRunner: Sendable {
    /// An encode that ended (`result`), or, later, the consistency report of a done job.
    struct Finished: Sendable {
        let job: Int64
        let result: Result<VideoAssembler.Outcome, ReelError>?
        let consistency: ConsistencyReport?
    }

    private let finished = Mutex<[Finished]>([])
    private let progress = Mutex<[Int64: Int]>([:])

    /// Starts assembling a job's video from its committed outputs; its files stay inside `root`.
    func start(_ committed: JobArtifacts, root: String) {
        let job = committed.job, spec = committed.spec, plan = committed.plan
        progress.withLock { $0[job] = 0 }
        let thread = Thread { [self] in
            let result: Result<VideoAssembler.Outcome, ReelError>
            var scoring: (() -> ConsistencyReport?)?
            do {
                let read = committed.latents
                let load = { (chunk: Chunk) throws -> [Float] in try read(plan.unit(.chunks, chunk.index)!) }
                let seams = SeamOverride(plan: plan, read: read)
                var frameMetrics = FrameMetrics(plan: plan, fps: spec.fps, width: spec.width, height: spec.height)
                let report = { (frames: Int) in self.progress.withLock { $0[job] = frames } }
                let outcome =
                    plan.decodes.isEmpty
                    ? try VideoAssembler.assemble(
                        spec: spec, plan: plan, root: root, load: load, override: seams.frame, observe: { _, rgb in frameMetrics.add(rgb) }, progress: report)
                    : try VideoAssembler.assembleDecoded(
                        spec: spec, plan: plan, root: root, load: load, override: seams.frame,
                        pixels: { window in try read(plan.unit(.decode, window.index)!) }, observe: { _, rgb in frameMetrics.add(rgb) },
                        progress: report)
                let frames = frameMetrics.report()
                if spec.backend == .procedural {
                    scoring = { try? ConsistencyScorer.score(spec: spec, plan: plan, frames: frames, read: read) }
                }
                result = .success(outcome)
            } catch let error as ReelError {
                result = .failure(error)
            } catch {
                result = .failure(ReelError(.encode, "\(error)"))
            }
            // The job is done as soon as its video is: scoring it (minutes for a long video) comes after.
            self.finished.withLock { $0.append(Finished(job: job, result: result, consistency: nil)) }
            if let report = scoring?() { self.finished.withLock { $0.append(Finished(job: job, result: nil, consistency: report)) } }
        }
        thread.name = "reel-encode-\(job)"
        thread.start()
    }

    func takeFinished() -> [Finished] {
        finished.withLock { list in
            defer { list.removeAll() }
            return list
        }
    }

    func framesEncoded(job: Int64) -> Int? { progress.withLock { $0[job] } }

    func forget(job: Int64) { progress.withLock { $0[job] = nil } }
}
