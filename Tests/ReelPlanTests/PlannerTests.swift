import ReelCore
import Testing

@testable import ReelPlan

@Suite struct PlannerTests {
    /// Checks the invariants every split must satisfy and returns the windows.
    @discardableResult
    func checkedSplit(length: Int, window: Int, overlap: Int) -> [Range<Int>] {
        let windows = Planner.split(length: length, window: window, overlap: overlap)
        #expect(windows.first?.lowerBound == 0)
        #expect(windows.last?.upperBound == length)
        for w in windows { #expect(w.count == min(window, length), "no sliver: \(windows)") }
        for (a, b) in zip(windows, windows.dropFirst()) {
            #expect(a.upperBound - b.lowerBound >= overlap, "overlap kept: \(windows)")
            #expect(b.lowerBound > a.lowerBound, "strictly advancing: \(windows)")
        }
        // The fewest windows: one fewer could not cover the length with this overlap.
        let count = windows.count
        if count > 1 { #expect((count - 2) * (window - overlap) + window < length) }
        return windows
    }

    @Test func edgeCases() {
        #expect(checkedSplit(length: 10, window: 48, overlap: 8) == [0..<10], "shorter than one chunk")
        #expect(checkedSplit(length: 48, window: 48, overlap: 8) == [0..<48], "exactly one chunk")
        #expect(checkedSplit(length: 88, window: 48, overlap: 8) == [0..<48, 40..<88], "exact multiple of the stride")
        let oneOver = checkedSplit(length: 89, window: 48, overlap: 8)
        #expect(oneOver.count == 3, "one frame over adds a window, rebalanced: \(oneOver)")
        #expect(checkedSplit(length: 1, window: 2, overlap: 1) == [0..<1])
    }

    @Test func invariantsHoldAcrossManyShapes() {
        for length in stride(from: 1, through: 400, by: 7) {
            for window in [2, 5, 16, 48] {
                for overlap in Set([0, 1, window / 4, window / 2, window - 1]) where overlap < window {
                    checkedSplit(length: length, window: window, overlap: overlap)
                }
            }
        }
    }

    @Test func planCoversEveryVoxelAndReportsRedundancy() {
        let spec = JobSpec(
            name: "t", prompt: "p", seconds: 5, fps: 24, width: 96, height: 64, seed: 1,
            chunkFrames: 48, overlap: 8, tileWidth: 48, tileHeight: 48, tileOverlap: 16, output: "o.mp4")
        let plan = Planner.plan(spec)
        var covered = [Int](repeating: 0, count: plan.grid.frames * plan.grid.height * plan.grid.width)
        for chunk in plan.chunks {
            for f in chunk.region.frames {
                for y in chunk.region.rows {
                    for x in chunk.region.columns {
                        covered[(f * plan.grid.height + y) * plan.grid.width + x] += 1
                    }
                }
            }
        }
        #expect(!covered.contains(0), "every voxel covered")
        let sampled = covered.reduce(0, +)
        #expect(abs(plan.redundancy - Double(sampled) / Double(covered.count)) < 1e-12)
        #expect(plan.chunks.count == plan.windows.count * plan.tileRows.count * plan.tileColumns.count)
        #expect(plan.tileColumns.count == 3 && plan.tileRows.count == 2)
    }

    @Test func demoRedundancyMatchesTheFormula() {
        let spec = JobSpec(name: "t", prompt: "p", seconds: 60, fps: 24, width: 256, height: 144, seed: 1, output: "o.mp4")
        let plan = Planner.plan(spec)
        #expect(plan.windows.count == 36)
        #expect(abs(plan.redundancy - 36.0 * 48 / 1440) < 1e-12)
    }
}
