import ReelCore
import ReelPlan
import ReelStore

/// A job's committed task outputs on disk, by plan unit: where each lives, and its latents
/// read whole or one frame at a time (so pinning a chunk to a few keyframes never loads all).
public struct JobArtifacts: Sendable {
    public let job: Int64
    public let spec: JobSpec
    public let plan: Plan
    public let store: ArtifactStore

    public init(job: Int64, spec: JobSpec, plan: Plan, store: ArtifactStore) {
        self.job = job
        self.spec = spec
        self.plan = plan
        self.store = store
    }

    /// The artifact path of a unit's committed output, relative to the artifact store.
    public func path(_ unit: Int) -> String {
        store.chunkPath(job: job, stage: plan.units[unit].stage.rawValue, chunk: plan.units[unit].index)
    }

    /// A unit's committed latents, in its own local layout.
    public func latents(_ unit: Int) throws -> [Float] {
        try LatentCodec.decode(try store.read(path(unit)), expectedCount: Planner.work(spec, plan, unit: unit).resultCount)
    }

    /// One local frame of a unit's committed latents.
    public func frame(_ unit: Int, _ local: Int) throws -> [Float] {
        let work = Planner.work(spec, plan, unit: unit)
        let perFrame = work.resultCount / work.frameCount
        return try LatentCodec.decode(
            try store.read(path(unit), offset: local * perFrame * 2, count: perFrame * 2), expectedCount: perFrame)
    }
}
