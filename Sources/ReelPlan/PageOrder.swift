import ReelCore

extension Planner {
    /// The order in which a job's tasks are paged into the scheduler's window of resident
    /// tasks and dispatched: by the frame each unit is paged at (``pageFrame(of:in:)``) or any
    /// unit's it depends on (transitively), whichever is latest, then by unit. A dependency
    /// always comes before its dependent: its key is at most the dependent's, and a plan lists
    /// it first. A plan lists every chunk before every seam, so paging in unit order left a
    /// long video's first seams out of the window until most of its chunks had committed, and
    /// the encode waited for them (decision 0041). Positions are `Int32`: 4 bytes a unit,
    /// beside the plan's own.
    public static func pageOrder(_ plan: Plan) -> [Int32] {
        let count = plan.units.count
        var key = [Int](repeating: 0, count: count)
        for unit in 0..<count {
            let entry = plan.units[unit]
            var start = pageFrame(of: entry, in: plan)
            for dependency in entry.dependencies { start = max(start, key[dependency]) }
            key[unit] = start
        }
        return (0..<count).sorted { (key[$0], $0) < (key[$1], $1) }.map { Int32($0) }
    }

    /// The latent frame unit `entry` is paged at: the first it samples, stitches or decodes;
    /// for a keyframe set, earlier by the span of the set one level up, so the farm samples it
    /// while the frames before its own are sampled, and the chunks it pins do not wait for a
    /// keyframe level (decision 0049).
    private static func pageFrame(of entry: WorkUnit, in plan: Plan) -> Int {
        switch entry.stage {
        case .keyframes:
            let (index, set) = plan.keyframeSet(entry.index)
            let tree = plan.keyframeTrees[index]
            return max(tree.first, (tree.frames(ofSet: set).first ?? 0) - tree.parentSpan(ofSet: set))
        case .chunks: return plan.chunks[entry.index].region.frames.lowerBound
        case .seams: return plan.seams[entry.index].frames.lowerBound
        case .decode: return plan.decodes[entry.index].frames.lowerBound
        }
    }
}
