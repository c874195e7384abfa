import ReelCore
import ReelPlan

/// Builds a task's conditioning from the committed outputs of the tasks it depends on:
/// keyframes inside a chunk, the previous chunk's tail (autoregressive), the blended chunks
/// around a seam. Pure apart from `latents`, which reads a committed unit's artifact.
public struct ConditioningAssembler {
    public let spec: JobSpec
    public let plan: Plan
    /// The committed latents of a unit (in its own local layout).
    public let latents: (Int) throws -> [Float]
    /// One local frame of a unit's committed latents; read alone so that pinning a chunk to a
    /// few keyframes never loads every keyframe of a long video.
    public let frame: (_ unit: Int, _ localFrame: Int) throws -> [Float]

    public init(
        spec: JobSpec, plan: Plan, latents: @escaping (Int) throws -> [Float],
        frame: @escaping (_ unit: Int, _ localFrame: Int) throws -> [Float]
    ) {
        self.spec = spec
        self.plan = plan
        self.latents = latents
        self.frame = frame
    }

    /// The conditioning of `unit`, rounded as it travels (Float16), so every path agrees.
    public func conditioning(unit: Int) throws -> Conditioning {
        let exact = try assemble(unit: unit)
        let round = { (values: [Float]) in try! LatentCodec.decode(LatentCodec.encode(values), expectedCount: values.count) }
        return Conditioning(pinned: exact.pinned.mapValues(round), initial: exact.initial.map(round))
    }

    func assemble(unit: Int) throws -> Conditioning {
        let entry = plan.units[unit]
        switch entry.stage {
        case .keyframes:
            // A finer set is pinned to the anchors coarser sets sampled.
            let (treeIndex, set) = plan.keyframeSet(entry.index)
            let (positions, anchors) = plan.keyframeTrees[treeIndex].positions(ofSet: set)
            var pinned: [Int: [Float]] = [:]
            for anchor in anchors {
                let owner = plan.keyframeOwner(tree: treeIndex, position: anchor)
                pinned[positions.firstIndex(of: anchor)!] = try frame(owner.set, owner.localFrame)
            }
            return Conditioning(pinned: pinned)
        case .chunks:
            let chunk = plan.chunks[entry.index]
            var pinned: [Int: [Float]] = [:]
            if plan.mode == .rolling, let treeIndex = plan.keyframeTree(ofShot: chunk.shot) {
                let tree = plan.keyframeTrees[treeIndex]
                for position in tree.positions(in: chunk.region.frames) {
                    let owner = plan.keyframeOwner(tree: treeIndex, position: position)
                    pinned[tree.frame(ofPosition: position) - chunk.region.frames.lowerBound] = crop(
                        try frame(owner.set, owner.localFrame), to: chunk.region)
                }
            }
            if plan.mode == .autoregressive, let previousUnit = entry.dependencies.first(where: { plan.units[$0].stage == .chunks }) {
                let previous = plan.chunks[plan.units[previousUnit].index]
                for shared in chunk.region.frames where previous.region.frames.contains(shared) {
                    pinned[shared - chunk.region.frames.lowerBound] = try frame(previousUnit, shared - previous.region.frames.lowerBound)
                }
            }
            return Conditioning(pinned: pinned)
        case .seams:
            let seam = plan.seams[entry.index]
            var initial: [Float] = []
            try Stitcher(plan: plan).stitch(
                frames: seam.frames,
                load: { chunk in try latents(plan.unit(.chunks, chunk.index)!) },
                emit: { _, frame in initial += frame })
            let perFrame = plan.grid.voxelsPerFrame
            var pinned: [Int: [Float]] = [:]
            let local = Array(0..<seam.context) + Array((seam.frames.count - seam.context)..<seam.frames.count)
            for frame in local { pinned[frame] = Array(initial[(frame * perFrame)..<((frame + 1) * perFrame)]) }
            return Conditioning(pinned: pinned, initial: initial)
        case .decode:
            // The window's latents, stitched as the video has them: chunks blended, seams in place.
            var initial: [Float] = []
            try Stitcher(plan: plan).stitch(
                frames: plan.decodes[entry.index].frames, load: { chunk in try latents(plan.unit(.chunks, chunk.index)!) },
                override: SeamOverride(plan: plan, read: latents).frame, emit: { _, frame in initial += frame })
            return Conditioning(pinned: [:], initial: initial)
        }
    }

    /// A full frame of latents cut to `region`'s rows and columns.
    func crop(_ block: [Float], to region: Region) -> [Float] {
        let grid = plan.grid
        var out: [Float] = []
        out.reserveCapacity(grid.channels * region.rows.count * region.columns.count)
        for channel in 0..<grid.channels {
            for y in region.rows {
                let start = (channel * grid.height + y) * grid.width
                out += block[(start + region.columns.lowerBound)..<(start + region.columns.upperBound)]
            }
        }
        return out
    }
}
