import ReelCore

extension Planner {
    /// The order in which a job's tasks are paged into the scheduler's window of resident
    /// tasks: by the first latent frame of the unit or of any unit it depends on (transitively),
    /// whichever is latest, then by unit. A dependency always comes before its dependent: its
    /// key is at most the dependent's, and a plan lists it first. A plan lists every chunk
    /// before every seam, so paging in unit order left a long video's first seams out of the
    /// window until most of its chunks had committed, and the encode waited for them
    /// (decision 0041). Positions are `Int32`: 4 bytes a unit, beside the plan's own.
    public static func pageOrder(_ plan: Plan) -> [Int32] {
        let count = plan.units.count
        var key = [Int](repeating: 0, count: count)
        for unit in 0..<count {
            let entry = plan.units[unit]
            var start = firstFrame(of: entry, in: plan)
            for dependency in entry.dependencies { start = max(start, key[dependency]) }
            key[unit] = start
        }
        return (0..<count).sorted { (key[$0], $0) < (key[$1], $1) }.map { Int32($0) }
    }

    /// The first latent frame unit `entry` samples, stitches or decodes.
    private static func firstFrame(of entry: WorkUnit, in plan: Plan) -> Int {
        switch entry.stage {
        case .keyframes:
            let (tree, set) = plan.keyframeSet(entry.index)
            return plan.keyframeTrees[tree].frames(ofSet: set).first ?? 0
        case .chunks: return plan.chunks[entry.index].region.frames.lowerBound
        case .seams: return plan.seams[entry.index].frames.lowerBound
        case .decode: return plan.decodes[entry.index].frames.lowerBound
        }
    }
}
