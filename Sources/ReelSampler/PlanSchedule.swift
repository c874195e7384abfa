import HeapModule
import ReelCore
import ReelPlan

extension PlanCost {
    /// Denoising steps a farm of `workers` one-slot workers with no overhead takes over `plan`:
    /// a task starts the moment a worker is free and its dependencies are done, ready tasks
    /// first in `order` (the scheduler's dispatch order, `Planner.pageOrder`), each running its
    /// steps (``runSteps(_:)``; decode tasks none). The work over the workers and the critical
    /// path are lower bounds; this is what the dispatch policy reaches when sending costs
    /// nothing, so a farm's time over it is what the farm itself adds (the simulated backend,
    /// whose step time does not grow with a task's size, takes exactly this).
    public static func scheduledSteps(_ spec: JobSpec, _ plan: Plan, workers: Int, order: [Int32]) -> Int {
        precondition(workers >= 1 && order.count == plan.units.count, "a schedule needs a worker and every unit ordered")
        let count = plan.units.count
        var rank = [Int](repeating: 0, count: count)
        for (position, unit) in order.enumerated() { rank[Int(unit)] = position }
        var waitingOn = [Int](repeating: 0, count: count)
        var dependents = [[Int]](repeating: [], count: count)
        for unit in 0..<count {
            waitingOn[unit] = plan.units[unit].dependencies.count
            for dependency in plan.units[unit].dependencies { dependents[dependency].append(unit) }
        }
        let steps = (0..<count).map { plan.units[$0].stage == .decode ? 0 : runSteps(Planner.work(spec, plan, unit: $0)) }
        // Ready units by rank; running ones by (finish, unit).
        var ready = Heap<Int>((0..<count).filter { waitingOn[$0] == 0 }.map { rank[$0] })
        var running = Heap<Finish>()
        var free = workers, now = 0
        while true {
            while free > 0, let next = ready.popMin() {
                let unit = Int(order[next])
                running.insert(Finish(at: now + steps[unit], unit: unit))
                free -= 1
            }
            guard let first = running.popMin() else { return now }
            now = first.at
            var done = [first.unit]
            while let next = running.min, next.at == now { done.append(running.removeMin().unit) }
            free += done.count
            for unit in done {
                for dependent in dependents[unit] {
                    waitingOn[dependent] -= 1
                    if waitingOn[dependent] == 0 { ready.insert(rank[dependent]) }
                }
            }
        }
    }

    private struct Finish: Comparable {
        var at: Int
        var unit: Int
        static func < (a: Finish, b: Finish) -> Bool { (a.at, a.unit) < (b.at, b.unit) }
    }
}
