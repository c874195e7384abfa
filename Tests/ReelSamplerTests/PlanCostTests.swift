import ReelCore
import ReelPlan
import Testing

@testable import ReelSampler

/// Honest accounting: keyframe and seam tasks count beside chunk overlap, and the critical
/// path is the chain a mode forces.
@Suite struct PlanCostTests {
    func spec(_ mode: ConsistencyMode) -> JobSpec {
        JobSpec(
            name: "cost", prompt: "p", seconds: 20, fps: 12, width: 32, height: 32, seed: 1, backend: .simulated, steps: 10,
            chunkFrames: 16, overlap: 4, output: "cost.mp4", consistency: mode)
    }

    @Test func everySamplingTaskIsCountedAndTheCriticalPathFollowsTheMode() {
        let independent = spec(.independent), plan = Planner.plan(independent)
        let cost = PlanCost.of(independent, plan)
        #expect(cost.stages.map(\.stage) == [.chunks] && cost.stages[0].tasks == plan.chunks.count)
        #expect(abs(cost.factor - plan.redundancy) < 1e-9, "independent: only the overlap is sampled twice")
        #expect(cost.criticalPathTasks == 1 && cost.criticalPathSteps == 10)
        #expect(cost.taskSteps == 10 * plan.chunks.count)

        let rolling = spec(.rolling), rollingPlan = Planner.plan(rolling)
        let rollingCost = PlanCost.of(rolling, rollingPlan)
        #expect(rollingCost.stages.map(\.stage) == [.keyframes, .chunks, .seams])
        #expect(rollingCost.stages.first { $0.stage == .seams }?.tasks == rollingPlan.seams.count)
        #expect(rollingCost.factor > rollingPlan.redundancy + 0.01, "keyframes and seams cost more than the overlap alone")
        let seamSteps = PlanCost.runSteps(Planner.work(rolling, rollingPlan, unit: rollingPlan.unit(.seams, 0)!))
        #expect(seamSteps > 0 && seamSteps < 10, "a seam runs only the steps below its strength")
        // 20 keyframes, more than a set holds (16): a top set and finer sets pinned to it.
        #expect(rollingPlan.keyframeTrees.map(\.depth) == [1])
        #expect(
            rollingCost.criticalPathTasks == 4 && rollingCost.criticalPathSteps == 10 + 10 + 10 + seamSteps,
            "two levels of keyframes, a chunk, a seam")

        let serial = spec(.autoregressive), serialPlan = Planner.plan(serial)
        let serialCost = PlanCost.of(serial, serialPlan)
        #expect(serialCost.criticalPathTasks == serialPlan.chunks.count, "each chunk waits for the one before")
        #expect(serialCost.criticalPathSteps == serialCost.taskSteps)
    }

    @Test func aScheduleWithoutOverheadLiesBetweenTheBoundsAndMatchesThemAtTheEnds() {
        for mode in [ConsistencyMode.independent, .rolling, .autoregressive] {
            let spec = spec(mode), plan = Planner.plan(spec), cost = PlanCost.of(spec, plan)
            let order = Planner.pageOrder(plan)
            #expect(PlanCost.scheduledSteps(spec, plan, workers: 1, order: order) == cost.taskSteps, "\(mode): one worker runs every step")
            #expect(
                PlanCost.scheduledSteps(spec, plan, workers: plan.units.count, order: order) == cost.criticalPathSteps,
                "\(mode): enough workers run the critical path")
            for workers in [2, 3, 7] {
                let steps = PlanCost.scheduledSteps(spec, plan, workers: workers, order: order)
                #expect(steps >= max(cost.criticalPathSteps, (cost.taskSteps + workers - 1) / workers), "\(mode), \(workers) workers")
                #expect(steps <= cost.taskSteps)
            }
        }
    }

    @Test func rollingModesKeyframeLevelsLeaveWorkersIdleThatTheBoundsDoNotCount() {
        let spec = spec(.rolling), plan = Planner.plan(spec), cost = PlanCost.of(spec, plan)
        let workers = 8
        let steps = PlanCost.scheduledSteps(spec, plan, workers: workers, order: Planner.pageOrder(plan))
        // The top keyframe set runs alone, then its finer sets, before any chunk can start: more
        // than the work over the workers, and more than the critical path.
        let bound = max(cost.criticalPathSteps, (cost.taskSteps + workers - 1) / workers)
        #expect(steps >= bound + 10, "scheduled \(steps) steps, bounds \(bound)")
        // Independent chunks fill every worker: whole rounds of 10 steps.
        let independent = self.spec(.independent), flat = Planner.plan(independent)
        let rounds = (flat.chunks.count + workers - 1) / workers
        #expect(PlanCost.scheduledSteps(independent, flat, workers: workers, order: Planner.pageOrder(flat)) == 10 * rounds)
    }
}
