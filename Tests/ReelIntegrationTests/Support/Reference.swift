import Foundation
import ReelCore
import ReelPlan
import ReelSampler
import ReelStitch
import ReelStore

/// What an undisturbed render of a spec must produce, computed in-process from the pure
/// functions (sampler, stitcher, decoder): the checksums a farm's job row must match.
enum Reference {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var cache: [JobSpec: (latents: String, frames: String)] = [:]

    static func checksums(_ specPath: String) throws -> (latents: String, frames: String) {
        var spec = try SpecLoaderForTests.load(specPath)
        spec.output = "/unused.mp4"
        lock.lock()
        defer { lock.unlock() }
        if let known = cache[spec] { return known }
        let plan = Planner.plan(spec)
        let outcome = try VideoAssembler.stitch(
            spec: spec, plan: plan,
            load: { chunk in
                let bytes = LatentCodec.encode(ChunkSampler.sample(ChunkWork(spec: spec, chunk: chunk)))
                return try LatentCodec.decode(bytes, expectedCount: ChunkWork(spec: spec, chunk: chunk).resultCount)
            }, frame: { _, _ in })
        let result = (Checksum.hex(outcome.latentChecksum), Checksum.hex(outcome.frameChecksum))
        cache[spec] = result
        return result
    }

    /// Checks a finished job against the reference and the store's invariants; returns problems.
    static func verify(job: Int64, in store: Store, spec specPath: String, artifacts: String) throws -> [String] {
        var problems: [String] = []
        guard let record = try store.job(job) else { return ["job \(job) missing"] }
        let expected = try checksums(specPath)
        if record.state != .done { problems.append("job \(job) is \(record.state.rawValue): \(record.reason ?? "")") }
        if record.latentChecksum != expected.latents { problems.append("job \(job): stitched latents differ from the reference") }
        if record.frameChecksum != expected.frames { problems.append("job \(job): decoded frames differ from the reference") }
        let recomputed = try store.recomputedAfterCommit(job: job)
        if recomputed != 0 { problems.append("job \(job): \(recomputed) committed task(s) were leased again") }
        let commits = try store.commitCounts(job: job)
        for task in try store.tasks(job: job) {
            if task.state != .done { problems.append("task \(task.id!) is \(task.state.rawValue)") }
            if commits[task.id!] != 1 { problems.append("task \(task.id!) committed \(commits[task.id!] ?? 0) times") }
            guard let path = task.artifact, let data = FileManager.default.contents(atPath: "\(artifacts)/\(path)") else {
                problems.append("task \(task.id!) has no artifact")
                continue
            }
            if Checksum.hex(Checksum.fnv1a([UInt8](data))) != task.checksum {
                problems.append("task \(task.id!): artifact checksum mismatch")
            }
        }
        return problems
    }
}
