import ReelCore

/// Reads back which take and which sprite paths a (clean) procedural video shows.
public struct ProceduralOracle: Sendable {
    /// What a region of video shows.
    public struct Reading: Sendable, Hashable, Codable {
        public var take: Int
        /// Global index of `paths[lane][0]`'s boundary.
        public var firstBoundary: Int
        /// `paths[lane][i]`: keypoint at global boundary `firstBoundary + i`.
        public var paths: [[Int]]
        /// Posterior probability of `take` (near 1 for a clean video of the world).
        public var takeConfidence: Double
    }

    public let world: ProceduralWorld

    public init(world: ProceduralWorld) { self.world = world }

    /// The most probable world state behind `video` (local layout of `region`), treating it as
    /// nearly clean (noise level 0.02).
    public func read(_ video: [Float], region: Region, frames: [Int]? = nil) -> Reading {
        let posterior = ProceduralDenoiser(world: world, region: region, frames: frames).posterior(video, t: 0.02)
        let best = posterior.mostProbable
        return Reading(
            take: best.take, firstBoundary: posterior.firstSegment, paths: best.paths,
            takeConfidence: posterior.takeProbabilities[best.take])
    }
}
