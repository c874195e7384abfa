import Foundation
import ReelCore
import ReelPlan
import ReelSampler
import ReelStitch

/// Everything measured about a job's consistency, as recorded on its row and shown by `reel score`.
public struct ConsistencyReport: Sendable, Hashable, Codable {
    public var frames: FrameMetrics.Report
    /// Mean |A − B| over the latents two neighbouring chunks share, before blending.
    public var overlapDisagreement: Double
    /// Pairs of neighbouring windows compared.
    public var neighbourPairs: Int
    /// Procedural oracle, chunks as sampled (before blending and the seam pass).
    public var chunkTakeDisagreements: Int
    public var chunkPathDisagreements: Int
    /// Neighbour pairs of chunks that disagree at all (take or any lane's path).
    public var chunkSeamsDisagreeing: Int
    /// Neighbour pairs of final windows that disagree at all.
    public var seamsDisagreeing: Int
    /// Procedural oracle on the final video, window by window.
    public var takeDisagreements: Int
    public var pathDisagreements: Int
    /// Final windows whose take differs from their shot's majority take.
    public var takesAgainstMajority: Int
}

extension FrameMetrics {
    /// Frame metrics for a planned job: its overlaps are the seams, its shot changes the cuts;
    /// frames are `width` × `height` pixels.
    public init(plan: Plan, fps: Int, width: Int, height: Int) {
        self.init(
            seams: ConsistencyScorer.seamRanges(plan).map(plan.videoFrames),
            cuts: Set(plan.shots.dropFirst().map { plan.videoFrames($0.frames).lowerBound }), fps: fps,
            width: width, height: height)
    }
}

/// Computes a ``ConsistencyReport`` from a job's committed latents. Pure apart from the closures.
public enum ConsistencyScorer {
    /// The overlap frame ranges of neighbouring windows within each shot.
    public static func seamRanges(_ plan: Plan) -> [Range<Int>] {
        plan.shots.flatMap { shot in
            zip(plan.windows[shot.windows], plan.windows[shot.windows].dropFirst()).map { a, b in
                b.lowerBound..<min(a.upperBound + 1, shot.frames.upperBound)
            }
        }
    }

    /// Scores a job whose committed units `read(unit)` returns: chunks for the chunk-level
    /// comparison, the final video (blend plus seam output) window by window.
    public static func score(spec: JobSpec, plan: Plan, frames: FrameMetrics.Report, read: @escaping (Int) throws -> [Float]) throws
        -> ConsistencyReport
    {
        let load = { (chunk: Chunk) throws -> [Float] in try read(plan.unit(.chunks, chunk.index)!) }
        let seams = SeamOverride(plan: plan, read: read)
        return try score(
            spec: spec, plan: plan, frames: frames, chunk: { try read(plan.unit(.chunks, $0)!) },
            final: { range in
                var latents: [Float] = []
                try Stitcher(plan: plan).stitch(frames: range, load: load, override: seams.frame) { _, frame in latents += frame }
                return latents
            })
    }

    /// The mean absolute difference of neighbouring chunks over their shared latent frames,
    /// before blending (any backend: it needs no oracle).
    public static func overlapDisagreement(plan: Plan, read: (Int) throws -> [Float]) throws -> Double {
        var sum = 0.0, count = 0
        for shot in plan.shots {
            var previous: (chunk: Chunk, latents: [Float])?
            for window in shot.windows {
                let current = plan.chunks.first { $0.window == window && $0.tile == 0 }!
                let latents = try read(plan.unit(.chunks, current.index)!)
                if let previous {
                    let (s, c) = overlapDifference(previous.chunk, previous.latents, current, latents, channels: plan.grid.channels)
                    sum += s
                    count += c
                }
                previous = (current, latents)
            }
        }
        return count == 0 ? 0 : sum / Double(count)
    }

    /// `chunk(index)`: a chunk's committed latents; `final(frames)`: the final video's
    /// full-frame latents over `frames`; `frames`: the frame metrics already computed.
    public static func score(
        spec: JobSpec, plan: Plan, frames: FrameMetrics.Report, chunk: (Int) throws -> [Float], final: (Range<Int>) throws -> [Float]
    ) throws -> ConsistencyReport {
        var report = ConsistencyReport(
            frames: frames, overlapDisagreement: 0, neighbourPairs: 0, chunkTakeDisagreements: 0, chunkPathDisagreements: 0,
            chunkSeamsDisagreeing: 0, seamsDisagreeing: 0, takeDisagreements: 0, pathDisagreements: 0, takesAgainstMajority: 0)
        var overlapSum = 0.0, overlapCount = 0
        for shot in plan.shots {
            let world = ProceduralWorld(prompt: shot.prompt, grid: plan.grid)
            let oracle = ProceduralOracle(world: world)
            var finalReadings: [ProceduralOracle.Reading] = []
            var previous: (chunk: Chunk, latents: [Float], reading: ProceduralOracle.Reading)?
            for window in shot.windows {
                // Tile 0 of each window stands for the window in the chunk-level comparison.
                let current = plan.chunks.first { $0.window == window && $0.tile == 0 }!
                let latents = try chunk(current.index)
                let reading = oracle.read(latents, region: current.region)
                if let previous {
                    report.neighbourPairs += 1
                    if previous.reading.take != reading.take { report.chunkTakeDisagreements += 1 }
                    let paths = pathDisagreements(
                        world, previous.reading, reading,
                        overlap: current.region.frames.lowerBound..<previous.chunk.region.frames.upperBound)
                    report.chunkPathDisagreements += paths
                    if paths > 0 || previous.reading.take != reading.take { report.chunkSeamsDisagreeing += 1 }
                    let (sum, count) = overlapDifference(previous.chunk, previous.latents, current, latents, channels: plan.grid.channels)
                    overlapSum += sum
                    overlapCount += count
                }
                previous = (current, latents, reading)
                let frames = plan.windows[window]
                finalReadings.append(oracle.read(try final(frames), region: plan.fullFrame(frames)))
            }
            for (index, pair) in zip(finalReadings, finalReadings.dropFirst()).enumerated() {
                if pair.0.take != pair.1.take { report.takeDisagreements += 1 }
                let a = plan.windows[shot.windows.lowerBound + index], b = plan.windows[shot.windows.lowerBound + index + 1]
                let paths = pathDisagreements(world, pair.0, pair.1, overlap: b.lowerBound..<a.upperBound)
                report.pathDisagreements += paths
                if paths > 0 || pair.0.take != pair.1.take { report.seamsDisagreeing += 1 }
            }
            let counts = Dictionary(grouping: finalReadings.map(\.take), by: { $0 }).mapValues(\.count)
            let majority = counts.max { ($0.value, -$0.key) < ($1.value, -$1.key) }?.key
            report.takesAgainstMajority += finalReadings.filter { $0.take != majority }.count
        }
        report.overlapDisagreement = overlapCount == 0 ? 0 : overlapSum / Double(overlapCount)
        return report
    }

    /// Lanes whose sprite, as two readings place it, is more than a pixel apart in some frame
    /// of their overlap.
    static func pathDisagreements(
        _ world: ProceduralWorld, _ a: ProceduralOracle.Reading, _ b: ProceduralOracle.Reading, overlap: Range<Int>
    ) -> Int {
        guard a.take == b.take else { return world.lanes.count }
        var lanes = 0
        for lane in world.lanes.indices {
            let differs = overlap.contains { frame in
                guard let pa = position(world, a, lane: lane, frame: frame), let pb = position(world, b, lane: lane, frame: frame) else {
                    return false
                }
                return abs(pa - pb) > 1
            }
            if differs { lanes += 1 }
        }
        return lanes
    }

    static func position(_ world: ProceduralWorld, _ reading: ProceduralOracle.Reading, lane: Int, frame: Int) -> Double? {
        let segment = frame / ProceduralWorld.segmentFrames - reading.firstBoundary
        guard segment >= 0, segment + 1 < reading.paths[lane].count else { return nil }
        return world.center(lane: lane, frame: frame, from: reading.paths[lane][segment], to: reading.paths[lane][segment + 1]).x
    }

    /// Sum and count of |A − B| over the voxels two chunks share.
    static func overlapDifference(_ a: Chunk, _ va: [Float], _ b: Chunk, _ vb: [Float], channels: Int) -> (Double, Int) {
        let frames =
            max(a.region.frames.lowerBound, b.region.frames.lowerBound)..<min(a.region.frames.upperBound, b.region.frames.upperBound)
        guard !frames.isEmpty, a.region.rows == b.region.rows, a.region.columns == b.region.columns else { return (0, 0) }
        let perFrame = channels * a.region.rows.count * a.region.columns.count
        var sum = 0.0
        for frame in frames {
            let ia = (frame - a.region.frames.lowerBound) * perFrame, ib = (frame - b.region.frames.lowerBound) * perFrame
            for i in 0..<perFrame { sum += Double(abs(va[ia + i] - vb[ib + i])) }
        }
        return (sum, frames.count * perFrame)
    }
}
