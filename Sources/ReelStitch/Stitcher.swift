import ReelCore
import ReelPlan

/// Blends a plan's chunks into whole frames, one frame at a time, holding only the chunks of
/// the time windows that cover the current frame: memory is bounded by two windows, not by
/// the video's length.
///
/// Each chunk's weight is the product of its time ramp and its tile's row and column ramps;
/// the output is the weighted mean over the chunks covering a voxel. Pure apart from `load`.
public struct Stitcher {
    public let plan: Plan
    private let rowWeights: [[Float]]
    private let columnWeights: [[Float]]

    public init(plan: Plan) {
        self.plan = plan
        rowWeights = plan.tileRows.indices.map { BlendWeights.weights(windows: plan.tileRows, index: $0).map(Float.init) }
        columnWeights = plan.tileColumns.indices.map { BlendWeights.weights(windows: plan.tileColumns, index: $0).map(Float.init) }
    }

    /// Calls `emit(frame, latents)` for every frame in order, where `latents` is one frame's
    /// channels × height × width. `load(chunk)` returns a chunk's latents (local layout); each
    /// chunk is loaded once. Returns the most chunks held in memory at any one time.
    ///
    /// `frames` limits the work to a range of frames; `override(frame)`, when it returns
    /// latents, replaces the blend for that frame (the seam pass's committed output).
    @discardableResult
    public func stitch(
        frames range: Range<Int>? = nil, load: (Chunk) throws -> [Float], override: (Int) throws -> [Float]? = { _ in nil },
        emit: (Int, [Float]) throws -> Void
    ) throws -> Int {
        let grid = plan.grid
        let perFrame = grid.voxelsPerFrame
        let tilesPerWindow = plan.tileRows.count * plan.tileColumns.count
        var loaded: [Int: [Float]] = [:]  // chunk index → latents
        var timeWeights: [Int: [Float]] = [:]  // window → its blend ramp, for windows in use
        var accumulator = [Float](repeating: 0, count: perFrame)
        var weightSum = [Float](repeating: 0, count: grid.height * grid.width)
        var mostHeld = 0
        for frame in range ?? 0..<grid.frames {
            let covering = plan.windowsCovering(frame: frame)
            // Evict chunks of windows that ended before this frame.
            for index in loaded.keys where !covering.contains(plan.chunks[index].window) { loaded[index] = nil }
            for window in timeWeights.keys where !covering.contains(window) { timeWeights[window] = nil }
            if let replaced = try override(frame) {
                try emit(frame, replaced)
                continue
            }
            for i in accumulator.indices { accumulator[i] = 0 }
            for i in weightSum.indices { weightSum[i] = 0 }
            for window in covering {
                if timeWeights[window] == nil {
                    timeWeights[window] = BlendWeights.weights(windows: plan.windows, index: window).map(Float.init)
                }
                let timeWeight = timeWeights[window]![frame - plan.windows[window].lowerBound]
                for tile in 0..<tilesPerWindow {
                    let chunk = plan.chunks[window * tilesPerWindow + tile]
                    if loaded[chunk.index] == nil { loaded[chunk.index] = try load(chunk) }
                    accumulate(
                        chunk, latents: loaded[chunk.index]!, frame: frame, timeWeight: timeWeight,
                        into: &accumulator, weights: &weightSum)
                }
            }
            mostHeld = max(mostHeld, loaded.count)
            let plane = grid.height * grid.width
            for channel in 0..<grid.channels {
                for pixel in 0..<plane { accumulator[channel * plane + pixel] /= weightSum[pixel] }
            }
            try emit(frame, accumulator)
        }
        return mostHeld
    }

    private func accumulate(
        _ chunk: Chunk, latents: [Float], frame: Int, timeWeight: Float,
        into accumulator: inout [Float], weights: inout [Float]
    ) {
        let grid = plan.grid, region = chunk.region
        let h = region.rows.count, w = region.columns.count
        let tileRow = chunk.tile / plan.tileColumns.count, tileColumn = chunk.tile % plan.tileColumns.count
        let rowRamp = rowWeights[tileRow], columnRamp = columnWeights[tileColumn]
        let localFrame = frame - region.frames.lowerBound
        latents.withUnsafeBufferPointer { source in
            accumulator.withUnsafeMutableBufferPointer { target in
                weights.withUnsafeMutableBufferPointer { weightTarget in
                    for ly in 0..<h {
                        let y = region.rows.lowerBound + ly
                        for lx in 0..<w {
                            let weight = timeWeight * rowRamp[ly] * columnRamp[lx]
                            let pixel = y * grid.width + region.columns.lowerBound + lx
                            weightTarget[pixel] += weight
                            for channel in 0..<grid.channels {
                                target[channel * grid.height * grid.width + pixel] +=
                                    weight * source[((localFrame * grid.channels + channel) * h + ly) * w + lx]
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Latents to pixels. For the procedural backend the latent is the RGB frame in [-1, 1].
public enum FrameDecoder {
    /// Planar RGB latents in [-1, 1] → interleaved 8-bit RGB.
    public static func rgb8(_ latents: [Float], width: Int, height: Int) -> [UInt8] {
        let plane = width * height
        var pixels = [UInt8](repeating: 0, count: plane * 3)
        for pixel in 0..<plane {
            for channel in 0..<3 {
                let value = (latents[channel * plane + pixel] + 1) * 127.5
                pixels[pixel * 3 + channel] = UInt8(max(0, min(255, value.rounded())))
            }
        }
        return pixels
    }
}
