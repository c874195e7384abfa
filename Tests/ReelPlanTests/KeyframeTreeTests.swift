import ReelCore
import Testing

@testable import ReelPlan
@testable import ReelStitch
import ReelSampler

@Suite struct KeyframeTreeTests {
    @Test func aShotWithFewKeyframesIsOneJointSet() {
        let tree = KeyframeTree(shot: 0, first: 0, every: 12, count: 16, capacity: 16)
        #expect(tree.setCount == 1 && tree.depth == 0)
        #expect(tree.positions(ofSet: 0).all == Array(0..<16) && tree.positions(ofSet: 0).pinned.isEmpty)
        #expect(tree.frames(ofSet: 0) == Array(stride(from: 0, to: 192, by: 12)))
    }

    /// Every keyframe is sampled by exactly one set and pinned only in finer sets; no set holds
    /// more than the capacity; a set's anchors come from sets before it; the tree is as shallow
    /// as the capacity allows.
    @Test(arguments: [(1, 3), (2, 3), (3, 3), (4, 3), (9, 3), (17, 3), (16, 16), (17, 16), (226, 16), (10_200, 16), (3376, 16)])
    func everyKeyframeIsSampledOnceWithinTheCapacity(count: Int, capacity: Int) {
        let tree = KeyframeTree(shot: 0, first: 5, every: 3, count: count, capacity: capacity)
        var sampledBy = [Int?](repeating: nil, count: count)
        for set in 0..<tree.setCount {
            let (all, pinned) = tree.positions(ofSet: set)
            #expect(all.count <= capacity && all == all.sorted() && Set(pinned).isSubset(of: all))
            #expect(all.count > pinned.count, "set \(set) samples something")
            for position in all where !pinned.contains(position) {
                #expect(sampledBy[position] == nil, "keyframe \(position) sampled twice")
                sampledBy[position] = set
                #expect(tree.owner(ofPosition: position) == (set, all.firstIndex(of: position)!))
            }
            for dependency in tree.dependencies(ofSet: set) { #expect(dependency < set) }
            #expect(tree.dependencies(ofSet: set) == Set(pinned.map { sampledBy[$0]! }).sorted(), "anchors are sampled before")
        }
        #expect(sampledBy.allSatisfy { $0 != nil })
        var reach = capacity
        for _ in 0..<tree.depth { reach *= capacity - 1 }
        #expect(count <= reach, "depth \(tree.depth) is enough")
        #expect(tree.depth == 0 || count > reach / (capacity - 1), "depth \(tree.depth) is the least that is")
    }

    @Test func keyframesInAFrameRangeAreFoundByArithmetic() {
        let tree = KeyframeTree(shot: 0, first: 10, every: 7, count: 30, capacity: 5)
        for lower in 0..<230 {
            for length in [0, 1, 6, 7, 8, 40] {
                let frames = lower..<(lower + length)
                let expected = (0..<30).filter { frames.contains(10 + 7 * $0) }
                #expect(Array(tree.positions(in: frames)) == expected, "\(frames)")
            }
        }
    }

    func longSpec() -> JobSpec {
        JobSpec(
            name: "t", prompt: "p", seconds: 600, fps: 12, width: 32, height: 32, seed: 1, chunkFrames: 16, overlap: 4, output: "o.mp4",
            consistency: .rolling, keyframeEvery: 12, shots: [.init(prompt: "a", start: 0), .init(prompt: "b", start: 30)])
    }

    /// A long rolling video: no keyframe task holds more frames than a chunk, each chunk waits
    /// only for the sets that sample its keyframes, and the critical path grows by a level per
    /// factor of 15 in keyframes, not with their number.
    @Test func aLongVideosKeyframeTasksAreBoundedAndChunksWaitOnlyForTheirOwn() {
        let spec = longSpec()
        let plan = Planner.plan(spec)
        #expect(plan.keyframeTrees.map(\.shot) == [0, 1] && plan.keyframeTrees.map(\.depth) == [1, 2])
        let keyframeUnits = plan.units.indices.filter { plan.units[$0].stage == .keyframes }
        #expect(keyframeUnits == Array(0..<plan.keyframeTrees.map(\.setCount).reduce(0, +)))
        for unit in keyframeUnits {
            let work = Planner.work(spec, plan, unit: unit)
            #expect(work.frameCount <= spec.chunkFrames && plan.unit(.keyframes, unit) == unit)
        }
        for index in [0, 1, 100, plan.chunks.count - 1] {
            let chunk = plan.chunks[index]
            let treeIndex = chunk.shot
            let tree = plan.keyframeTrees[treeIndex]
            let owners = Set(
                (0..<tree.count).filter { chunk.region.frames.contains(tree.frame(ofPosition: $0)) }.map {
                    plan.keyframeOwner(tree: treeIndex, position: $0).set
                })
            #expect(!owners.isEmpty && plan.units[plan.unit(.chunks, index)!].dependencies == owners.sorted())
        }
        let cost = PlanCost.of(spec, plan)
        #expect(cost.criticalPathTasks == 3 + 1 + 1, "the second shot's three levels, a chunk, a seam")
    }

    /// A finer set is pinned to the frames its anchors' sets sampled, and a chunk to the frames
    /// of its keyframes, wherever in the tree they were sampled.
    @Test func conditioningReadsEachKeyframeFromTheSetThatSampledIt() throws {
        let spec = longSpec()
        let plan = Planner.plan(spec)
        let perFrame = plan.grid.voxelsPerFrame
        // A committed frame's every value says which unit and local frame it is.
        let assembler = ConditioningAssembler(
            spec: spec, plan: plan, latents: { _ in [] }, frame: { unit, local in [Float](repeating: Float(unit * 1000 + local), count: perFrame) })
        let tree = plan.keyframeTrees[1]
        let leaf = plan.keyframeTrees[0].setCount + tree.setCount - 1
        let (positions, anchors) = tree.positions(ofSet: plan.keyframeSet(leaf).set)
        let conditioning = try assembler.assemble(unit: leaf)
        #expect(conditioning.pinned.count == anchors.count && !anchors.isEmpty)
        for anchor in anchors {
            let owner = plan.keyframeOwner(tree: 1, position: anchor)
            #expect(owner.set < leaf)
            #expect(conditioning.pinned[positions.firstIndex(of: anchor)!]?.first == Float(owner.set * 1000 + owner.localFrame))
        }
        let chunk = plan.chunks[plan.chunks.count - 1]
        let chunkConditioning = try assembler.assemble(unit: plan.unit(.chunks, chunk.index)!)
        let inside = tree.positions(in: chunk.region.frames)
        #expect(chunkConditioning.pinned.count == inside.count && !inside.isEmpty)
        for position in inside {
            let owner = plan.keyframeOwner(tree: 1, position: position)
            let local = tree.frame(ofPosition: position) - chunk.region.frames.lowerBound
            #expect(chunkConditioning.pinned[local]?.first == Float(owner.set * 1000 + owner.localFrame))
        }
    }
}
