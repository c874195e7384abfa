import ReelCore

/// Turns a validated spec into a plan. Pure.
public enum Planner {
    /// Plans `spec`: per shot, time windows of `chunkFrames` latent frames (never crossing a
    /// shot change), optional spatial tiles, and by consistency mode the keyframes, seams and
    /// dependencies.
    public static func plan(_ spec: JobSpec) -> Plan {
        let grid = spec.grid
        let schedule = spec.shotSchedule
        var windows: [Range<Int>] = []
        var shots: [ShotPlan] = []
        var seams: [Seam] = []
        var keyframeTrees: [KeyframeTree] = []
        for (index, shot) in schedule.enumerated() {
            let frames = shot.startFrame..<(index + 1 < schedule.count ? schedule[index + 1].startFrame : grid.frames)
            let first = windows.count
            windows += split(length: frames.count, window: spec.chunkFrames, overlap: spec.overlap)
                .map { ($0.lowerBound + frames.lowerBound)..<($0.upperBound + frames.lowerBound) }
            let keyframes =
                spec.consistency == .rolling ? Array(stride(from: frames.lowerBound, to: frames.upperBound, by: spec.keyframeEvery)) : []
            shots.append(ShotPlan(prompt: shot.prompt, frames: frames, windows: first..<windows.count, keyframes: keyframes))
            if let firstKeyframe = keyframes.first {
                keyframeTrees.append(
                    KeyframeTree(
                        shot: index, first: firstKeyframe, every: spec.keyframeEvery, count: keyframes.count,
                        capacity: spec.keyframeCapacity))
            }
            if spec.consistency == .rolling {
                seams += seamWindows(
                    windows: Array(windows[first...]), firstWindow: first, shot: index, shotFrames: frames,
                    chunkFrames: spec.chunkFrames, firstIndex: seams.count)
            }
        }
        let rows = spec.tileHeight > 0 ? split(length: grid.height, window: spec.tileHeight, overlap: spec.tileOverlap) : [0..<grid.height]
        let columns = spec.tileWidth > 0 ? split(length: grid.width, window: spec.tileWidth, overlap: spec.tileOverlap) : [0..<grid.width]
        return Plan(
            grid: grid, mode: spec.consistency, shots: shots, windows: windows, tileRows: rows, tileColumns: columns, seams: seams,
            decodes: spec.model.map { decodeWindows(spec, $0, latentFrames: grid.frames) } ?? [],
            temporalCompression: spec.model?.geometry.temporalCompression ?? 1, keyframeTrees: keyframeTrees)
    }

    /// The decode windows of a model backend: the latent frames split evenly into runs of at
    /// most `decodeFrames`, each decoded with `decodeOverlap` warm-up frames before it (and after
    /// it, when the decoder is not causal: then later latents shape a frame too). A
    /// window starting at latent `s > 0` decodes `s` as a lone first frame, which stands for the
    /// video's frame `r·s`; so the video's frame `q` is the window's local frame `q − r·s`.
    static func decodeWindows(_ spec: JobSpec, _ model: ModelSettings, latentFrames: Int) -> [DecodeWindow] {
        let geometry = model.geometry, r = geometry.temporalCompression
        let total = spec.frameCount
        func firstPixel(_ latent: Int) -> Int { min(total, latent == 0 ? 0 : 1 + r * (latent - 1)) }
        let count = (latentFrames + model.decodeFrames - 1) / model.decodeFrames
        return (0..<count).map { index in
            let kept = (index * latentFrames / count)..<((index + 1) * latentFrames / count)
            let after = geometry.decoderCausal ? 0 : model.decodeOverlap
            let frames = max(0, kept.lowerBound - model.decodeOverlap)..<min(latentFrames, kept.upperBound + after)
            let pixels = firstPixel(kept.lowerBound)..<(kept.upperBound == latentFrames ? total : firstPixel(kept.upperBound))
            return DecodeWindow(index: index, frames: frames, kept: kept, pixels: pixels, keepFrom: pixels.lowerBound - r * frames.lowerBound)
        }
    }

    /// One seam window per overlap, centred on it; all of a shot's seam windows have the same
    /// half-width, small enough that they never overlap each other (so they run in parallel).
    static func seamWindows(windows: [Range<Int>], firstWindow: Int, shot: Int, shotFrames: Range<Int>, chunkFrames: Int, firstIndex: Int)
        -> [Seam]
    {
        guard windows.count > 1 else { return [] }
        let centers = zip(windows, windows.dropFirst()).map { ($0.upperBound + $1.lowerBound) / 2 }
        var half = chunkFrames / 2
        for (a, b) in zip(centers, centers.dropFirst()) { half = min(half, (b - a) / 2) }
        return centers.enumerated().map { k, center in
            let frames = max(shotFrames.lowerBound, center - half)..<min(shotFrames.upperBound, center + half)
            return Seam(
                index: firstIndex + k, shot: shot, before: firstWindow + k, after: firstWindow + k + 1, frames: frames,
                context: max(1, min(4, frames.count / 6)))
        }
    }

    /// Covers `0..<length` with windows of exactly `window` elements (or one window of `length`
    /// when shorter), neighbours sharing at least `overlap`. The fewest windows that satisfy this
    /// are spread evenly, so the last window is never a sliver.
    ///
    /// Precondition: `0 <= overlap < window`, `length >= 1`.
    public static func split(length: Int, window: Int, overlap: Int) -> [Range<Int>] {
        precondition(length >= 1 && window >= 1 && overlap >= 0 && overlap < window)
        if length <= window { return [0..<length] }
        let stride = window - overlap
        let count = (length - overlap + stride - 1) / stride
        let span = length - window
        return (0..<count).map { index in
            // Rounded even spacing; integer arithmetic so every platform agrees.
            let start = (index * span * 2 + (count - 1)) / (2 * (count - 1))
            return start..<(start + window)
        }
    }

    /// The work of unit `unit` of `plan` under `spec` (conditioning is assembled separately).
    public static func work(_ spec: JobSpec, _ plan: Plan, unit: Int) -> ChunkWork {
        let entry = plan.units[unit]
        var work: ChunkWork
        switch entry.stage {
        case .keyframes:
            let (treeIndex, set) = plan.keyframeSet(entry.index)
            let tree = plan.keyframeTrees[treeIndex]
            let frames = tree.frames(ofSet: set)
            work = ChunkWork(spec: spec, chunk: Chunk(index: 0, window: 0, tile: 0, region: plan.fullFrame(frames.first!..<(frames.last! + 1))))
            work.frames = frames
            work.prompt = plan.shots[tree.shot].prompt
        case .chunks:
            let chunk = plan.chunks[entry.index]
            work = ChunkWork(spec: spec, chunk: chunk)
            work.prompt = plan.shots[chunk.shot].prompt
        case .seams:
            let seam = plan.seams[entry.index]
            work = ChunkWork(spec: spec, chunk: Chunk(index: 0, window: 0, tile: 0, region: plan.fullFrame(seam.frames)))
            work.prompt = plan.shots[seam.shot].prompt
            work.refineStrength = spec.seamStrength
        case .decode:
            let window = plan.decodes[entry.index]
            work = ChunkWork(spec: spec, chunk: Chunk(index: 0, window: 0, tile: 0, region: plan.fullFrame(window.frames)))
            work.decode = DecodeSpan(keepFrom: window.keepFrom, keepCount: window.pixels.count, tiled: spec.width * spec.height > 1280 * 720)
        }
        return work
    }
}
