import Foundation
import ReelCore
import ReelMetrics
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
        let outcome = try run(spec).outcome
        let result = (Checksum.hex(outcome.latentChecksum), Checksum.hex(outcome.frameChecksum))
        cache[spec] = result
        return result
    }

    /// Runs every unit of the plan in order, in-process, exactly as workers would (conditioning
    /// assembled from committed outputs and rounded as it travels), and stitches the result.
    static func run(_ spec: JobSpec) throws -> (outcome: VideoAssembler.Outcome, plan: Plan, outputs: [Int: [Float]]) {
        let plan = Planner.plan(spec)
        var outputs: [Int: [Float]] = [:]
        for unit in plan.units.indices {
            let work = Planner.work(spec, plan, unit: unit)
            let conditioning = try ConditioningAssembler(
                spec: spec, plan: plan, latents: { outputs[$0]! },
                frame: { unit, local in
                    let perFrame = outputs[unit]!.count / Planner.work(spec, plan, unit: unit).frameCount
                    return Array(outputs[unit]![(local * perFrame)..<((local + 1) * perFrame)])
                }
            ).conditioning(unit: unit)
            let latents = ChunkSampler.sample(work, conditioning: conditioning)
            outputs[unit] = try LatentCodec.decode(LatentCodec.encode(latents), expectedCount: work.resultCount)
        }
        let seams = SeamOverride(plan: plan) { outputs[$0]! }
        let outcome = try VideoAssembler.stitch(
            spec: spec, plan: plan, load: { outputs[plan.unit(.chunks, $0.index)!]! }, override: seams.frame, frame: { _, _ in })
        return (outcome, plan, outputs)
    }

    /// The frame metrics of the reference video's frames, as a job's consistency report holds them.
    static func frameMetrics(_ spec: JobSpec) throws -> FrameMetrics.Report {
        let (_, plan, outputs) = try run(spec)
        var metrics = FrameMetrics(plan: plan, fps: spec.fps, width: spec.width, height: spec.height)
        let seams = SeamOverride(plan: plan) { outputs[$0]! }
        _ = try VideoAssembler.stitch(
            spec: spec, plan: plan, load: { outputs[plan.unit(.chunks, $0.index)!]! }, override: seams.frame,
            frame: { _, rgb in metrics.add(rgb) })
        return metrics.report()
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
            guard let text = task.artifact, let location = ArtifactLocation(text),
                let data = try? ArtifactStore(root: artifacts).read(location)
            else {
                problems.append("task \(task.id!) has no artifact")
                continue
            }
            if Checksum.hex(Checksum.payload([UInt8](data))) != task.checksum {
                problems.append("task \(task.id!): artifact checksum mismatch")
            }
        }
        return problems
    }
}
