import ReelCore
import ReelPlan
import ReelStore
import Synchronization

/// Where each plan unit's committed output lives (an ``ArtifactLocation`` in its stored
/// form), shared between the coordinator's thread, which records commits, and encode threads.
public final class ArtifactIndex: Sendable {
    private let entries: Mutex<[String?]>

    public init(count: Int) { entries = Mutex([String?](repeating: nil, count: count)) }

    public subscript(unit: Int) -> String? {
        get { entries.withLock { $0[unit] } }
        set { entries.withLock { $0[unit] = newValue } }
    }

    /// The index of a job's committed task rows (`tasks` in any order, every stage).
    public static func of(plan: Plan, tasks: [TaskRecord]) -> ArtifactIndex {
        let index = ArtifactIndex(count: plan.units.count)
        for task in tasks where task.state == .done {
            if let unit = plan.unit(of: task) { index[unit] = task.artifact }
        }
        return index
    }
}

extension Plan {
    /// The plan unit a stored task row stands for, nil when the row is not in this plan.
    public func unit(of task: TaskRecord) -> Int? {
        TaskStage(rawValue: task.stage).flatMap { unit($0, task.chunkIndex) }
    }
}

/// A job's committed task outputs, by plan unit: where each lives, and its latents read
/// whole or one frame at a time (so pinning a chunk to a few keyframes never loads all).
public struct JobArtifacts: Sendable {
    public let job: Int64
    public let spec: JobSpec
    public let plan: Plan
    public let store: ArtifactStore
    public let index: ArtifactIndex

    public init(job: Int64, spec: JobSpec, plan: Plan, store: ArtifactStore, index: ArtifactIndex) {
        self.job = job
        self.spec = spec
        self.plan = plan
        self.store = store
        self.index = index
    }

    /// Where a unit's committed output is.
    public func location(_ unit: Int) throws -> ArtifactLocation {
        guard let text = index[unit], let location = ArtifactLocation(text) else {
            throw ReelError(.artifact, "\(plan.units[unit].stage.rawValue) \(plan.units[unit].index) of job \(job) has no committed output")
        }
        return location
    }

    /// A unit's committed latents, in its own local layout.
    public func latents(_ unit: Int) throws -> [Float] {
        try LatentCodec.decode(try store.read(try location(unit)), expectedCount: Planner.work(spec, plan, unit: unit).resultCount)
    }

    /// One local frame of a unit's committed latents.
    public func frame(_ unit: Int, _ local: Int) throws -> [Float] {
        let work = Planner.work(spec, plan, unit: unit)
        let perFrame = work.resultCount / work.frameCount
        return try LatentCodec.decode(
            try store.read(try location(unit), offset: local * perFrame * 2, count: perFrame * 2), expectedCount: perFrame)
    }
}
