import Testing

@testable import ReelCore
@testable import ReelPlan

/// The order a job's tasks are paged into the scheduler's window (decision 0041).
@Suite struct PageOrderTests {
    func plan(_ mode: ConsistencyMode, seconds: Double, tiled: Bool = false) -> Plan {
        var spec = JobSpec(
            name: "t", prompt: "p", seconds: seconds, fps: 12, width: 64, height: 48, seed: 1, chunkFrames: 24, overlap: 4,
            output: "o.mp4", consistency: mode, keyframeEvery: 12,
            shots: [JobSpec.Shot(prompt: "a", start: 0), JobSpec.Shot(prompt: "b", start: seconds / 2)])
        if tiled {
            spec.tileWidth = 32
            spec.tileOverlap = 8
        }
        return Planner.plan(spec)
    }

    @Test(arguments: [ConsistencyMode.independent, .rolling, .autoregressive], [false, true])
    func everyUnitComesOnceAndAfterItsDependencies(mode: ConsistencyMode, tiled: Bool) {
        let plan = plan(mode, seconds: 60, tiled: tiled)
        let order = Planner.pageOrder(plan).map(Int.init)
        #expect(order.sorted() == Array(0..<plan.units.count))
        var position = [Int](repeating: 0, count: order.count)
        for (index, unit) in order.enumerated() { position[unit] = index }
        for unit in 0..<plan.units.count {
            for dependency in plan.units[unit].dependencies {
                #expect(position[dependency] < position[unit], "unit \(unit) is paged before its dependency \(dependency)")
            }
        }
    }

    /// A plan lists every chunk before every seam: in unit order the first seam would come
    /// after the last chunk, and a window of resident tasks would not reach it until most
    /// chunks had committed.
    @Test func theFirstSeamComesRightAfterTheChunksItJoins() throws {
        let plan = plan(.rolling, seconds: 120)
        let order = Planner.pageOrder(plan).map(Int.init)
        let seam = try #require(plan.unit(.seams, 0))
        let joined = plan.units[seam].dependencies
        let lastChunk = try #require(plan.unit(.chunks, plan.chunks.count - 1))
        let position = try #require(order.firstIndex(of: seam))
        #expect(seam > lastChunk, "the plan lists seams after chunks (unit order would page it last)")
        #expect(position > joined.compactMap { order.firstIndex(of: $0) }.max()!)
        #expect(position < order.firstIndex(of: lastChunk)!, "the first seam is paged after the last chunk")
        // Nothing between the chunks it joins and it starts later than they do.
        let firstFrames = order[..<position].map { plan.units[$0] }.filter { $0.stage == .chunks }
            .map { plan.chunks[$0.index].region.frames.lowerBound }
        #expect(firstFrames.max()! <= plan.seams[0].frames.lowerBound + plan.chunks[0].region.frames.count)
    }

    /// A keyframe set is paged a span of the set above it ahead of its own frames: every chunk
    /// starting from there comes after it, every chunk before there before it. So a set is
    /// sampled while the frames before its own are, and the chunks it pins do not wait for a
    /// keyframe level (decision 0049); the scheduler dispatches in this order.
    @Test func aKeyframeSetIsPagedASpanOfTheSetAboveAheadOfItsFrames() throws {
        let plan = plan(.rolling, seconds: 1400)
        let order = Planner.pageOrder(plan).map(Int.init)
        var position = [Int](repeating: 0, count: order.count)
        for (index, unit) in order.enumerated() { position[unit] = index }
        let chunks = plan.chunks.map { (start: $0.region.frames.lowerBound, position: position[plan.unit(.chunks, $0.index)!]) }
        var checked = 0
        for set in 0..<plan.keyframeTrees.map(\.setCount).reduce(0, +) {
            let (index, local) = plan.keyframeSet(set)
            let tree = plan.keyframeTrees[index]
            guard tree.level(ofSet: local) >= 2 else { continue }
            let paged = max(tree.first, tree.frames(ofSet: local)[0] - tree.parentSpan(ofSet: local))
            let at = position[plan.unit(.keyframes, set)!]
            #expect(chunks.allSatisfy { ($0.start >= paged) == ($0.position > at) }, "set \(set) is paged at frame \(paged)")
            if paged > tree.first { checked += 1 }
        }
        #expect(checked > 10, "\(checked) sets two levels down are paged after their shot's first frame")
    }
}
