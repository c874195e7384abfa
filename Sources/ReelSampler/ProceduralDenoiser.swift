import Foundation
import ReelCore

/// The procedural backend's model for one region: the exact posterior mean `E[x0 | x_t]` of
/// the world's video, computed in closed form.
///
/// With `x_t = (1−t)·f(z) + t·ε`, the log-likelihood of a world state `z` is, up to terms that
/// do not depend on `z`, `α·⟨x_t, f(z)⟩ − β·‖f(z)‖²` with `α = (1−t)/t²`, `β = (1−t)²/(2t²)`.
/// Sprite footprints are the only part of `f(z)` that depends on the path, so each sprite's
/// moves get per-segment log-emissions summed over its footprints, forward-backward over
/// boundaries gives each lane's evidence and marginals, and the takes are enumerated.
public struct ProceduralDenoiser: Denoiser {
    public let world: ProceduralWorld
    /// Rows and columns sampled, and the span of frames.
    public let region: Region
    /// Global frames sampled, ascending: every frame of `region` for a chunk, a sparse set
    /// for keyframes (sampled jointly, so one posterior decides them all).
    public let frames: [Int]
    /// Frames (local index) observed clean: keyframes, a neighbour's committed frames. The
    /// posterior treats them as data at noise level ``pinnedNoiseLevel`` (native conditioning).
    public var pinnedFrames: [Int: [Float]] = [:]
    /// The noise level pinned frames are observed at: nearly clean, so they decide.
    public static let pinnedNoiseLevel = 0.01
    let masks: SpriteMasks
    /// `‖f‖²` terms of each footprint that depend on the move: `[take * boxCount + box]`.
    let footprintQuadratic: [Double]
    /// Take-dependent part of the background's squared norm over one frame, per take.
    let backgroundQuadratic: [Double]
    let firstSegment: Int
    let segmentCount: Int
    /// Local frame → local segment.
    let segmentOfFrame: [Int]

    /// Precomputes the footprints of `region` (or of `frames` in its rows and columns);
    /// `progress` is called as that work advances.
    public init(world: ProceduralWorld, region: Region, frames: [Int]? = nil, progress: () -> Void = {}) {
        self.world = world
        self.region = region
        let frames = frames ?? Array(region.frames)
        precondition(!frames.isEmpty && zip(frames, frames.dropFirst()).allSatisfy { $0 < $1 })
        self.frames = frames
        masks = SpriteMasks(world: world, frames: frames, rows: region.rows, columns: region.columns, progress: progress)
        let segmentFrames = ProceduralWorld.segmentFrames
        firstSegment = frames.first! / segmentFrames
        segmentCount = frames.last! / segmentFrames - firstSegment + 1
        segmentOfFrame = frames.map { $0 / segmentFrames - frames.first! / segmentFrames }

        let takes = ProceduralWorld.takeCount
        var background = [Double](repeating: 0, count: takes)
        for take in 0..<takes {
            var sum = 0.0
            for channel in 0..<3 {
                for y in region.rows {
                    let sky = Double(world.sky[(take * 3 + channel) * world.grid.height + y])
                    var patternSum = 0.0
                    for x in region.columns {
                        patternSum += Double(world.pattern[(channel * world.grid.height + y) * world.grid.width + x])
                    }
                    sum += Double(region.columns.count) * sky * sky + 2 * sky * patternSum
                }
            }
            background[take] = sum
        }
        backgroundQuadratic = background

        var quadratic = [Double](repeating: 0, count: takes * masks.boxes.count)
        for (b, box) in masks.boxes.enumerated() {
            let lane = b / (masks.frames * masks.pairCount)
            for take in 0..<takes {
                var sum = 0.0
                var offset = box.offset
                for ly in box.rows {
                    for lx in box.columns {
                        let m = Double(masks.values[offset]); offset += 1
                        let y = ly + region.rows.lowerBound, x = lx + region.columns.lowerBound
                        for channel in 0..<3 {
                            let g = Double(world.background(take: take, channel: channel, y: y, x: x))
                            let d = Double(world.spriteColor[(take * world.lanes.count + lane) * 3 + channel]) - g
                            sum += 2 * m * g * d + m * m * d * d
                        }
                    }
                }
                quadratic[take * masks.boxes.count + b] = sum
            }
            if b % 64 == 63 { progress() }
        }
        footprintQuadratic = quadratic
    }

    public mutating func predictClean(_ x: [Float], t: Double, into prediction: inout [Float]) {
        compose(posterior(x, t: t, pinned: pinnedFrames), into: &prediction)
    }

    /// The exact posterior of the world's choices given `x` at noise level `t` (0 < t < 1),
    /// with `pinned` frames (local index → clean values) observed at ``pinnedNoiseLevel``.
    public func posterior(_ noisy: [Float], t: Double, pinned: [Int: [Float]] = [:]) -> ProceduralPosterior {
        let takes = ProceduralWorld.takeCount, lanes = world.lanes.count, pairCount = masks.pairCount
        let h = region.rows.count, w = region.columns.count, frames = self.frames.count
        precondition(noisy.count == frames * 3 * h * w)
        // Per frame: the data and its noise level (pinned frames are observed clean).
        var observed = noisy
        for (frame, values) in pinned {
            precondition(values.count == 3 * h * w)
            observed.replaceSubrange((frame * 3 * h * w)..<((frame + 1) * 3 * h * w), with: values)
        }
        let levels = (0..<frames).map { pinned[$0] == nil ? t : Self.pinnedNoiseLevel }
        let alphas = levels.map { (1 - $0) / ($0 * $0) }, betas = levels.map { (1 - $0) * (1 - $0) / (2 * $0 * $0) }
        var logTake = [Double](repeating: -log(Double(takes)), count: takes)
        var emissions = [Double](repeating: 0, count: takes * lanes * segmentCount * pairCount)

        observed.withUnsafeBufferPointer { x in
            // Background evidence: ⟨x, sky_k⟩ through row sums (the texture term is the same for every take).
            for frame in 0..<frames {
                for channel in 0..<3 {
                    for ly in 0..<h {
                        let start = ((frame * 3 + channel) * h + ly) * w
                        var rowSum: Float = 0
                        for lx in 0..<w { rowSum += x[start + lx] }
                        let y = region.rows.lowerBound + ly
                        for take in 0..<takes {
                            logTake[take] +=
                                alphas[frame] * Double(world.sky[(take * 3 + channel) * world.grid.height + y]) * Double(rowSum)
                        }
                    }
                }
            }
            let betaSum = betas.reduce(0, +)
            for take in 0..<takes { logTake[take] -= betaSum * backgroundQuadratic[take] }

            // Footprint evidence per (lane, frame, move): ⟨x, m·(c_k − g_k − p)⟩ for every take at once.
            masks.values.withUnsafeBufferPointer { maskValues in
                world.pattern.withUnsafeBufferPointer { pattern in
                    for lane in 0..<lanes {
                        for frame in 0..<frames {
                            let segment = segmentOfFrame[frame]
                            for pair in 0..<pairCount {
                                let boxIndex = (lane * frames + frame) * pairCount + pair
                                let box = masks.boxes[boxIndex]
                                if box.rows.isEmpty || box.columns.isEmpty { continue }
                                var linear = [Double](repeating: 0, count: takes)
                                var offset = box.offset
                                for ly in box.rows {
                                    let y = region.rows.lowerBound + ly
                                    var maskedSum = SIMD3<Float>.zero
                                    var patternTerm: Float = 0
                                    for lx in box.columns {
                                        let m = maskValues[offset]; offset += 1
                                        let xIndex = region.columns.lowerBound + lx
                                        for channel in 0..<3 {
                                            let value = m * x[((frame * 3 + channel) * h + ly) * w + lx]
                                            maskedSum[channel] += value
                                            patternTerm += value * pattern[(channel * world.grid.height + y) * world.grid.width + xIndex]
                                        }
                                    }
                                    for take in 0..<takes {
                                        var term = -Double(patternTerm)
                                        for channel in 0..<3 {
                                            let sprite = world.spriteColor[(take * lanes + lane) * 3 + channel]
                                            let sky = world.sky[(take * 3 + channel) * world.grid.height + y]
                                            term += Double((sprite - sky) * maskedSum[channel])
                                        }
                                        linear[take] += term
                                    }
                                }
                                for take in 0..<takes {
                                    let emission =
                                        alphas[frame] * linear[take] - betas[frame]
                                        * footprintQuadratic[take * masks.boxes.count + boxIndex]
                                    emissions[((take * lanes + lane) * segmentCount + segment) * pairCount + pair] += emission
                                }
                            }
                        }
                    }
                }
            }
        }

        var posterior = ProceduralPosterior(lanes: lanes, firstSegment: firstSegment, segments: segmentCount)
        emissions.withUnsafeBufferPointer { emissions in
            for take in 0..<takes {
                for lane in 0..<lanes {
                    let start = (take * lanes + lane) * segmentCount * pairCount
                    let slice = UnsafeBufferPointer(rebasing: emissions[start..<(start + segmentCount * pairCount)])
                    logTake[take] += posterior.forwardBackward(take: take, lane: lane, logEmission: slice)
                }
            }
        }
        let maxLog = logTake.max()!
        let unnormalized = logTake.map { exp($0 - maxLog) }
        let total = unnormalized.reduce(0, +)
        posterior.takeProbabilities = unnormalized.map { $0 / total }
        return posterior
    }

    /// Writes the posterior mean of the video under `posterior` into `prediction`.
    public func compose(_ posterior: ProceduralPosterior, into prediction: inout [Float]) {
        let takes = ProceduralWorld.takeCount, lanes = world.lanes.count, pairCount = masks.pairCount
        let h = region.rows.count, w = region.columns.count, frames = self.frames.count
        let negligible = 1e-9
        prediction.withUnsafeMutableBufferPointer { out in
            // Background: texture plus the take-weighted sky.
            for channel in 0..<3 {
                for ly in 0..<h {
                    let y = region.rows.lowerBound + ly
                    var sky: Float = 0
                    for take in 0..<takes {
                        sky += Float(posterior.takeProbabilities[take]) * world.sky[(take * 3 + channel) * world.grid.height + y]
                    }
                    let patternRow = (channel * world.grid.height + y) * world.grid.width + region.columns.lowerBound
                    for frame in 0..<frames {
                        let start = ((frame * 3 + channel) * h + ly) * w
                        for lx in 0..<w { out[start + lx] = sky + world.pattern[patternRow + lx] }
                    }
                }
            }
            // Sprites: each probable move's footprint pulls its pixels toward the sprite colour.
            for take in 0..<takes where posterior.takeProbabilities[take] > negligible {
                for lane in 0..<lanes {
                    for frame in 0..<frames {
                        let segment = segmentOfFrame[frame]
                        for pair in 0..<pairCount {
                            let weight =
                                posterior.takeProbabilities[take]
                                * posterior.pairProbabilities[((take * lanes + lane) * segmentCount + segment) * pairCount + pair]
                            if weight <= negligible { continue }
                            let box = masks.box(lane: lane, frame: frame, pair: pair)
                            var offset = box.offset
                            for ly in box.rows {
                                let y = region.rows.lowerBound + ly
                                for lx in box.columns {
                                    let m = Float(weight) * masks.values[offset]; offset += 1
                                    if m == 0 { continue }
                                    let xIndex = region.columns.lowerBound + lx
                                    for channel in 0..<3 {
                                        let target =
                                            world.spriteColor[(take * lanes + lane) * 3 + channel]
                                            - world.background(take: take, channel: channel, y: y, x: xIndex)
                                        out[((frame * 3 + channel) * h + ly) * w + lx] += m * target
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The clean video of `state` over this region: the world's ground truth.
    public func render(_ state: WorldState) -> [Float] {
        var posterior = ProceduralPosterior(lanes: world.lanes.count, firstSegment: firstSegment, segments: segmentCount)
        posterior.takeProbabilities = (0..<ProceduralWorld.takeCount).map { $0 == state.take ? 1 : 0 }
        for lane in 0..<world.lanes.count {
            for segment in 0..<segmentCount {
                let from = state.paths[lane][firstSegment + segment], to = state.paths[lane][firstSegment + segment + 1]
                let pair = KeypointWalk.pairIndex[from * KeypointWalk.states + to]
                precondition(pair >= 0, "keypoints \(from) → \(to) are not one move apart")
                posterior.pairProbabilities[((state.take * world.lanes.count + lane) * segmentCount + segment) * masks.pairCount + pair] = 1
            }
        }
        var video = [Float](repeating: 0, count: frames.count * 3 * region.rows.count * region.columns.count)
        compose(posterior, into: &video)
        return video
    }
}
