import ReelCore
import Testing

@testable import ReelPlan

@Suite struct ConsistencyPlanTests {
    func spec(_ mode: ConsistencyMode, seconds: Double = 20, shots: [JobSpec.Shot] = []) -> JobSpec {
        JobSpec(
            name: "t", prompt: "p", seconds: seconds, fps: 12, width: 64, height: 48, seed: 1, chunkFrames: 24, overlap: 4,
            output: "o.mp4", consistency: mode, keyframeEvery: 12, shots: shots)
    }

    /// 15 s in two shots, 2x2 tiles: every kind of unit and dependency.
    func tiledTwoShotPlan(_ mode: ConsistencyMode) -> Plan {
        var tiled = spec(mode, seconds: 15, shots: [JobSpec.Shot(prompt: "a", start: 0), JobSpec.Shot(prompt: "b", start: 7.5)])
        tiled.tileWidth = 32
        tiled.tileOverlap = 8
        return Planner.plan(tiled)
    }

    @Test func unitLookupsAndCoveringWindowsAgreeWithAFullScan() {
        for mode in [ConsistencyMode.independent, .rolling, .autoregressive] {
            let plan = tiledTwoShotPlan(mode)
            for (position, unit) in plan.units.enumerated() {
                #expect(plan.unit(unit.stage, unit.index) == position, "\(mode) \(unit.stage) \(unit.index)")
            }
            #expect(plan.unit(.seams, plan.seams.count) == nil && plan.unit(.chunks, -1) == nil)
            for frame in 0..<plan.grid.frames {
                #expect(plan.windowsCovering(frame: frame) == plan.windows.indices.filter { plan.windows[$0].contains(frame) })
                #expect(plan.seam(containing: frame) == plan.seams.firstIndex { $0.frames.contains(frame) }, "\(mode) frame \(frame)")
            }
            if mode == .rolling { #expect(!plan.seams.isEmpty, "the rolling plan has seams to find") }
        }
    }

    /// Chunks and units are computed on access (a plan stays small however long the video):
    /// they must match their definition, and a unit's dependencies must come before it, which
    /// the coordinator's paging of tasks in id order relies on.
    @Test func computedChunksAndUnitsMatchTheirDefinition() {
        for mode in [ConsistencyMode.independent, .rolling, .autoregressive] {
            let plan = tiledTwoShotPlan(mode)
            let tiles = plan.tileRows.count * plan.tileColumns.count
            #expect(tiles > 1 && plan.shots.count == 2)
            var expected: [Chunk] = []
            for (window, frames) in plan.windows.enumerated() {
                for (r, rows) in plan.tileRows.enumerated() {
                    for (c, columns) in plan.tileColumns.enumerated() {
                        expected.append(
                            Chunk(
                                index: expected.count, window: window, tile: r * plan.tileColumns.count + c,
                                shot: plan.shots.firstIndex { $0.windows.contains(window) }!,
                                region: Region(frames: frames, rows: rows, columns: columns)))
                    }
                }
            }
            #expect(Array(plan.chunks) == expected, "\(mode)")
            for (position, unit) in plan.units.enumerated() {
                #expect(unit.dependencies.allSatisfy { $0 < position }, "\(mode): unit \(position) waits only for earlier units")
                if unit.stage == .seams {
                    let seam = plan.seams[unit.index]
                    let windows = Set(unit.dependencies.map { plan.chunks[plan.units[$0].index].window })
                    #expect(windows == [seam.before, seam.after] && unit.dependencies.count == 2 * tiles)
                }
                if mode == .autoregressive, unit.stage == .chunks {
                    let chunk = plan.chunks[unit.index]
                    let first = plan.shots[chunk.shot].windows.lowerBound
                    #expect(unit.dependencies == (chunk.window > first ? [position - tiles] : []))
                }
            }
        }
    }

    @Test func independentPlansChunksOnly() {
        let plan = Planner.plan(spec(.independent))
        #expect(plan.units.allSatisfy { $0.stage == .chunks && $0.dependencies.isEmpty })
        #expect(plan.seams.isEmpty)
    }

    @Test func rollingPinsChunksToJointKeyframesAndAddsNonOverlappingSeams() {
        let plan = Planner.plan(spec(.rolling))
        #expect(plan.units.first == WorkUnit(stage: .keyframes, index: 0, dependencies: []))
        #expect(plan.shots[0].keyframes == Array(stride(from: 0, to: 240, by: 12)))
        let chunkUnits = plan.units.filter { $0.stage == .chunks }
        #expect(chunkUnits.count == plan.chunks.count && chunkUnits.allSatisfy { $0.dependencies == [0] })
        #expect(plan.seams.count == plan.windows.count - 1, "one seam per overlap")
        for (a, b) in zip(plan.seams, plan.seams.dropFirst()) {
            #expect(a.frames.upperBound <= b.frames.lowerBound, "seam windows never overlap, so they run in parallel")
        }
        for seam in plan.seams {
            let overlap = plan.windows[seam.after].lowerBound..<plan.windows[seam.before].upperBound
            #expect(
                seam.frames.contains(overlap.lowerBound) && seam.frames.contains(overlap.upperBound - 1), "the window covers its overlap")
            #expect(seam.context >= 1 && 2 * seam.context < seam.frames.count)
            let unit = plan.units[plan.unit(.seams, seam.index)!]
            #expect(Set(unit.dependencies) == [plan.unit(.chunks, seam.before)!, plan.unit(.chunks, seam.after)!])
        }
    }

    @Test func autoregressiveChainsEachChunkToTheOneBefore() {
        let plan = Planner.plan(spec(.autoregressive))
        let chunkUnits = plan.units.filter { $0.stage == .chunks }
        #expect(chunkUnits[0].dependencies.isEmpty)
        for (index, unit) in chunkUnits.enumerated().dropFirst() { #expect(unit.dependencies == [index - 1]) }
    }

    @Test func shotsNeverShareAWindowAndEachUsesItsPrompt() {
        let plan = Planner.plan(spec(.rolling, seconds: 20, shots: [.init(prompt: "a", start: 0), .init(prompt: "b", start: 8)]))
        #expect(plan.shots.map(\.frames) == [0..<96, 96..<240])
        for window in plan.windows { #expect(window.upperBound <= 96 || window.lowerBound >= 96, "\(window) crosses the cut") }
        #expect(
            plan.seams.allSatisfy {
                plan.shots[$0.shot].frames.contains($0.frames.lowerBound) && $0.frames.upperBound <= plan.shots[$0.shot].frames.upperBound
            })
        let spec = spec(.rolling, seconds: 20, shots: [.init(prompt: "a", start: 0), .init(prompt: "b", start: 8)])
        for unit in plan.units.indices {
            let work = Planner.work(spec, plan, unit: unit)
            let shot = work.region.frames.lowerBound >= 96 ? "b" : "a"
            #expect(work.prompt == shot)
        }
        #expect(plan.units.filter { $0.stage == .keyframes }.count == 2, "keyframes per shot")
    }

    /// A wrong committed unit taints every committed unit computed from it, transitively; the
    /// uncommitted ones that read it wait for it again.
    @Test func recomputationFollowsDependenciesTransitively() {
        let plan = tiledTwoShotPlan(.rolling)
        let units = plan.units
        let first = units.indices.first { units[$0].dependencies.isEmpty && units.indices.contains { units[$0].dependencies.contains(0) } }!
        let all = Set(units.indices)
        let (reopened, waiting) = plan.recomputation(of: [first], committed: all)
        #expect(waiting.isEmpty, "everything was committed")
        for unit in units.indices {
            let readsReopened = units[unit].dependencies.contains { reopened.contains($0) }
            #expect(reopened.contains(unit) == (unit == first || readsReopened), "unit \(unit)")
        }
        let half = Set(units.indices.filter { $0 < units.count / 2 })
        let partial = plan.recomputation(of: [first], committed: half)
        #expect(partial.reopened.allSatisfy(half.contains))
        for (unit, inputs) in partial.waiting {
            #expect(!half.contains(unit) && inputs.allSatisfy(partial.reopened.contains) && !inputs.isEmpty)
        }
        #expect(plan.recomputation(of: [first], committed: []).reopened.isEmpty, "an uncommitted unit is not reopened")
    }
}
