import ReelCore
import ReelPlan

/// What a plan costs to sample, honestly counted: every sampling task (keyframes, chunks,
/// seams) in voxel-steps, against sampling the video's latent grid once; and its critical
/// path, the longest chain of tasks that must run one after another, in denoising steps.
/// Decode tasks (a model's VAE) are counted apart: they are not sampler work.
public struct PlanCost: Sendable, Codable, Hashable {
    /// One stage's tasks and their work.
    public struct Stage: Sendable, Codable, Hashable {
        public var stage: TaskStage
        public var tasks: Int
        /// Latent values × denoising steps the stage's tasks run.
        public var voxelSteps: Double
        /// The stage's work over sampling the video once.
        public var factor: Double
    }

    public var stages: [Stage]
    /// Every sampling task's work over sampling the video once (1.0: nothing sampled twice).
    public var factor: Double
    /// Denoising steps of every sampling task, summed: the work of a backend whose step time
    /// does not grow with the task's size (the simulated one).
    public var taskSteps: Int
    /// Steps along the longest chain of dependent tasks: no number of workers renders faster.
    public var criticalPathSteps: Int
    /// Tasks along that chain.
    public var criticalPathTasks: Int

    /// The cost of `plan`, planned from `spec`.
    public static func of(_ spec: JobSpec, _ plan: Plan) -> PlanCost {
        let grid = plan.grid
        let video = Double(grid.frames) * Double(grid.channels) * Double(grid.height) * Double(grid.width) * Double(max(1, spec.steps))
        var byStage: [TaskStage: (tasks: Int, voxelSteps: Double)] = [:]
        var finish = [Int](repeating: 0, count: plan.units.count)
        var chain = [Int](repeating: 0, count: plan.units.count)
        var taskSteps = 0
        for index in plan.units.indices {
            let unit = plan.units[index]
            let work = Planner.work(spec, plan, unit: index)
            let steps = unit.stage == .decode ? 0 : runSteps(work)
            taskSteps += steps
            byStage[unit.stage, default: (0, 0)].tasks += 1
            byStage[unit.stage, default: (0, 0)].voxelSteps += Double(work.resultCount) * Double(steps)
            // Dependencies come before their dependents in plan order.
            let longest = unit.dependencies.max { finish[$0] < finish[$1] }
            finish[index] = steps + (longest.map { finish[$0] } ?? 0)
            chain[index] = 1 + (longest.map { chain[$0] } ?? 0)
        }
        let stages = TaskStage.allCases.compactMap { stage in
            byStage[stage].map { Stage(stage: stage, tasks: $0.tasks, voxelSteps: $0.voxelSteps, factor: $0.voxelSteps / video) }
        }
        let last = finish.indices.max { finish[$0] < finish[$1] }
        return PlanCost(
            stages: stages, factor: stages.filter { $0.stage != .decode }.map(\.factor).reduce(0, +), taskSteps: taskSteps,
            criticalPathSteps: last.map { finish[$0] } ?? 0, criticalPathTasks: last.map { chain[$0] } ?? 0)
    }

    /// The denoising steps a sampling task runs: all of them, or a seam's last part (it is
    /// re-noised only to its strength).
    public static func runSteps(_ work: ChunkWork) -> Int {
        guard let strength = work.refineStrength else { return work.steps }
        return work.steps - FlowSchedule(steps: work.steps, shift: work.shift).startIndex(strength: strength)
    }

    /// One line per stage and a total, as `reel plan` prints them.
    public var lines: [String] {
        let parts = stages.filter { $0.stage != .decode }.map { String(format: "%@ %.3fx", $0.stage.rawValue, $0.factor) }
        var lines = [String(format: "sampled compute: %.3fx the video (%@)", factor, parts.joined(separator: ", "))]
        lines.append(
            "critical path: \(criticalPathTasks) task(s), \(criticalPathSteps) of \(taskSteps) task-steps (parallelism at most \(criticalPathSteps > 0 ? taskSteps / criticalPathSteps : 0)x)")
        return lines
    }
}
