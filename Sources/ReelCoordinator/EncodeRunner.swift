import Foundation
import ReelCore
import ReelStitch
import ReelStore
import Synchronization

/// Runs stitch-and-encode jobs on their own threads, so the coordinator's socket loop keeps
/// serving workers meanwhile; the loop collects finished ones with ``takeFinished()``.
final class EncodeRunner: Sendable {
    struct Finished: Sendable {
        let job: Int64
        let result: Result<VideoAssembler.Outcome, ReelError>
    }

    private let finished = Mutex<[Finished]>([])
    private let progress = Mutex<[Int64: Int]>([:])

    /// Starts assembling `job`'s video from its committed chunk artifacts.
    func start(job: Int64, spec: JobSpec, plan: Plan, artifacts: ArtifactStore, paths: [Int: String]) {
        progress.withLock { $0[job] = 0 }
        let thread = Thread { [self] in
            let result: Result<VideoAssembler.Outcome, ReelError>
            do {
                let outcome = try VideoAssembler.assemble(
                    spec: spec, plan: plan,
                    load: { chunk in
                        guard let path = paths[chunk.index] else { throw ReelError(.artifact, "chunk \(chunk.index) has no artifact") }
                        let expected = chunk.region.frames.count * plan.grid.channels * chunk.region.rows.count * chunk.region.columns.count
                        return try LatentCodec.decode(try artifacts.read(path), expectedCount: expected)
                    }, progress: { frames in self.progress.withLock { $0[job] = frames } })
                result = .success(outcome)
            } catch let error as ReelError {
                result = .failure(error)
            } catch {
                result = .failure(ReelError(.encode, "\(error)"))
            }
            self.finished.withLock { $0.append(Finished(job: job, result: result)) }
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

    var running: Int { progress.withLock { $0.count } }

    func forget(job: Int64) { progress.withLock { $0[job] = nil } }
}
