import Foundation
import ReelCore
import ReelPlan
import ReelStore
import Synchronization

/// Where each plan unit's committed output lives, shared between the coordinator's thread,
/// which records commits, and encode threads. Sixteen bytes a unit: a segment number, an
/// offset and a length, with each segment's path kept once.
public final class ArtifactIndex: Sendable {
    private struct Entry {
        /// Index into `paths`; -1: no committed output.
        var path: Int32 = -1
        /// -1: the whole file (stores from before segments).
        var length: Int32 = -1
        var offset: Int64 = 0
    }

    private struct Entries {
        var units: [Entry]
        var paths: [String] = []
        var pathNumbers: [String: Int32] = [:]
    }

    private let entries: Mutex<Entries>
    /// Broadcast whenever a unit's entry changes, for readers waiting for a commit.
    private let changed = NSCondition()

    public init(count: Int) { entries = Mutex(Entries(units: [Entry](repeating: Entry(), count: count))) }

    public subscript(unit: Int) -> ArtifactLocation? {
        get {
            entries.withLock { entries in
                let entry = entries.units[unit]
                guard entry.path >= 0 else { return nil }
                return ArtifactLocation(
                    path: entries.paths[Int(entry.path)], offset: Int(entry.offset), length: entry.length < 0 ? nil : Int(entry.length))
            }
        }
        set {
            entries.withLock { entries in
                guard let location = newValue else {
                    entries.units[unit] = Entry()
                    return
                }
                let number: Int32
                if let known = entries.pathNumbers[location.path] {
                    number = known
                } else {
                    number = Int32(entries.paths.count)
                    entries.paths.append(location.path)
                    entries.pathNumbers[location.path] = number
                }
                entries.units[unit] = Entry(path: number, length: location.length.map { Int32($0) } ?? -1, offset: Int64(location.offset))
            }
            changed.lock()
            changed.broadcast()
            changed.unlock()
        }
    }

    /// Whether `unit` is committed, waiting up to `seconds` for it to be.
    public func waitUntilCommitted(_ unit: Int, seconds: Double) -> Bool {
        changed.lock()
        defer { changed.unlock() }
        let deadline = Date(timeIntervalSinceNow: seconds)
        // A commit after a check broadcasts only once the wait below has released the lock.
        while self[unit] == nil {
            guard changed.wait(until: deadline) else { return self[unit] != nil }
        }
        return true
    }

    /// The index of a job's committed task rows (`tasks` in any order, every stage).
    public static func of(plan: Plan, tasks: [TaskRecord]) -> ArtifactIndex {
        let index = ArtifactIndex(count: plan.units.count)
        for task in tasks where task.state == .done {
            if let unit = plan.unit(of: task) { index[unit] = task.artifact.flatMap(ArtifactLocation.init) }
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
        guard let location = index[unit] else {
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
