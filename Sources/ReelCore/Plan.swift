/// One space-time cuboid of sampling work.
public struct Chunk: Sendable, Hashable, Codable {
    /// Position in `Plan.chunks`; also the task's index inside the chunks stage.
    public var index: Int
    /// Which time window (0-based, in time order) this chunk belongs to.
    public var window: Int
    /// Which spatial tile (row-major over the tile grid) this chunk covers.
    public var tile: Int
    /// Which shot of the prompt schedule.
    public var shot: Int
    public var region: Region

    public init(index: Int, window: Int, tile: Int, shot: Int = 0, region: Region) {
        self.index = index
        self.window = window
        self.tile = tile
        self.shot = shot
        self.region = region
    }
}

/// One shot of the prompt schedule, planned.
public struct ShotPlan: Sendable, Hashable, Codable {
    public var prompt: String
    public var frames: Range<Int>
    /// Indices into `Plan.windows` of this shot's windows.
    public var windows: Range<Int>
    /// Rolling mode: this shot's keyframes (global latent frames), sampled in the sets of its
    /// ``KeyframeTree``.
    public var keyframes: [Int]

    public init(prompt: String, frames: Range<Int>, windows: Range<Int>, keyframes: [Int]) {
        self.prompt = prompt
        self.frames = frames
        self.windows = windows
        self.keyframes = keyframes
    }
}

/// A seam window of the rolling consistency pass: re-noised and denoised again, with its
/// outer `context` frames on each side pinned to the blended chunks.
public struct Seam: Sendable, Hashable, Codable {
    public var index: Int
    public var shot: Int
    /// The windows on either side.
    public var before: Int
    public var after: Int
    public var frames: Range<Int>
    public var context: Int

    public init(index: Int, shot: Int, before: Int, after: Int, frames: Range<Int>, context: Int) {
        self.index = index
        self.shot = shot
        self.before = before
        self.after = after
        self.frames = frames
        self.context = context
    }
}

/// A decode task's window: latent frames `frames` (warm-up included) decode to pixels, of which
/// the frames of latents `kept` are kept; they are the video's frames `pixels`.
public struct DecodeWindow: Sendable, Hashable, Codable {
    public var index: Int
    public var frames: Range<Int>
    public var kept: Range<Int>
    public var pixels: Range<Int>
    /// The local decoded frame that is the video's frame `pixels.lowerBound`.
    public var keepFrom: Int

    public init(index: Int, frames: Range<Int>, kept: Range<Int>, pixels: Range<Int>, keepFrom: Int) {
        self.index = index
        self.frames = frames
        self.kept = kept
        self.pixels = pixels
        self.keepFrom = keepFrom
    }
}

/// One task of a job: its stage, its index in that stage, and the units it waits for.
public struct WorkUnit: Sendable, Hashable, Codable {
    public var stage: TaskStage
    public var index: Int
    /// Indices into `Plan.units` that must be committed first.
    public var dependencies: [Int]

    public init(stage: TaskStage, index: Int, dependencies: [Int]) {
        self.stage = stage
        self.index = index
        self.dependencies = dependencies
    }
}

/// The result of planning a job: the latent grid, the chunks that cover it, and (by
/// consistency mode) keyframes, seams and the dependencies between all tasks.
public struct Plan: Sendable, Hashable, Codable {
    public let grid: LatentGrid
    public let mode: ConsistencyMode
    /// Time windows in order (all shots); every chunk's frames are one of these.
    public let windows: [Range<Int>]
    /// Row ranges of the spatial tiles (one full-height range when not tiled).
    public let tileRows: [Range<Int>]
    /// Column ranges of the spatial tiles (one full-width range when not tiled).
    public let tileColumns: [Range<Int>]
    /// Chunks ordered by window, then tile row, then tile column (computed on access).
    public let chunks: PlanChunks
    public let shots: [ShotPlan]
    public let seams: [Seam]
    /// Model backends: the decode windows, in time order (empty when latents are pixels).
    public let decodes: [DecodeWindow]
    /// Video frames per latent frame after the first (1 when latents are pixels).
    public let temporalCompression: Int
    /// Every task: keyframe sets (each shot's tree, coarse to fine), then chunks, then seams,
    /// then decode windows; a unit's dependencies always come before it (computed on access).
    public let units: PlanUnits

    public init(
        grid: LatentGrid, mode: ConsistencyMode = .independent, shots: [ShotPlan], windows: [Range<Int>], tileRows: [Range<Int>],
        tileColumns: [Range<Int>], seams: [Seam] = [], decodes: [DecodeWindow] = [], temporalCompression: Int = 1,
        keyframeTrees: [KeyframeTree] = []
    ) {
        self.temporalCompression = temporalCompression
        self.grid = grid
        self.mode = mode
        self.shots = shots
        self.windows = windows
        self.tileRows = tileRows
        self.tileColumns = tileColumns
        self.seams = seams
        self.decodes = decodes
        chunks = PlanChunks(
            windows: windows, tileRows: tileRows, tileColumns: tileColumns, shotWindows: shots.map(\.windows))
        units = PlanUnits(
            chunks: chunks, autoregressive: mode == .autoregressive,
            keyframeTrees: mode == .rolling ? keyframeTrees : [],
            seamWindows: seams.flatMap { [$0.before, $0.after] },
            decodeSpans: decodes.map { Self.overlapping($0.frames, windows: windows, seams: seams) })
        assert(seams.indices.allSatisfy { seams[$0].index == $0 }, "seams are numbered in order")
    }

    /// Sampled voxels of the chunks over video voxels: the compute spent twice on overlaps (1.0 = none).
    public var redundancy: Double {
        let sampled = chunks.reduce(0) { $0 + $1.region.frames.count * $1.region.rows.count * $1.region.columns.count }
        return Double(sampled) / Double(grid.frames * grid.height * grid.width)
    }

    /// Time windows that contain `frame`. Windows are in time order (starts and ends both
    /// increase), so this is a binary search, not a scan: stitching stays linear in length.
    public func windowsCovering(frame: Int) -> [Int] {
        var low = 0, high = windows.count
        while low < high {
            let middle = (low + high) / 2
            if windows[middle].upperBound <= frame { low = middle + 1 } else { high = middle }
        }
        var covering: [Int] = []
        var index = low
        while index < windows.count, windows[index].lowerBound <= frame {
            if windows[index].contains(frame) { covering.append(index) }
            index += 1
        }
        return covering
    }

    /// The seam whose window holds `frame`, nil when none does. Seams are in time order and
    /// never overlap, so this is a binary search: the encode asks it for every frame.
    public func seam(containing frame: Int) -> Int? {
        Self.overlapping(frame..<(frame + 1), windows: [], seams: seams).seams.first { seams[$0].frames.contains(frame) }
    }

    /// The windows (first, end) and seams (first, end) whose frames meet `frames`: what a decode
    /// window's stitched latents are made of. Both are in time order, so two binary searches each.
    static func overlapping(_ frames: Range<Int>, windows: [Range<Int>], seams: [Seam]) -> DecodeSpans {
        func first<T>(_ items: [T], _ range: (T) -> Range<Int>, endingAfter frame: Int) -> Int {
            var low = 0, high = items.count
            while low < high {
                let middle = (low + high) / 2
                if range(items[middle]).upperBound <= frame { low = middle + 1 } else { high = middle }
            }
            return low
        }
        func end<T>(_ items: [T], _ range: (T) -> Range<Int>, startingBefore frame: Int) -> Int {
            var low = 0, high = items.count
            while low < high {
                let middle = (low + high) / 2
                if range(items[middle]).lowerBound < frame { low = middle + 1 } else { high = middle }
            }
            return low
        }
        return DecodeSpans(
            windows: first(windows, { $0 }, endingAfter: frames.lowerBound)..<end(windows, { $0 }, startingBefore: frames.upperBound),
            seams: first(seams, \.frames, endingAfter: frames.lowerBound)..<end(seams, \.frames, startingBefore: frames.upperBound))
    }

    /// The video frames of latent frames `latents` (the causal first-frame rule: latent 0 is one frame).
    public func videoFrames(_ latents: Range<Int>) -> Range<Int> {
        if temporalCompression == 1 { return latents }
        func first(_ latent: Int) -> Int { latent == 0 ? 0 : 1 + temporalCompression * (latent - 1) }
        return first(latents.lowerBound)..<first(latents.upperBound)
    }

    /// Each shot's keyframe tree (rolling mode; shots without keyframes have none), in shot order.
    public var keyframeTrees: [KeyframeTree] { units.keyframeTrees }

    /// The tree (its index in ``keyframeTrees``) and the set in it of keyframe set `index`
    /// (also its unit: keyframe sets come first).
    public func keyframeSet(_ index: Int) -> (tree: Int, set: Int) { units.keyframeTree(ofSet: index) }

    /// The index in ``keyframeTrees`` of shot `shot`'s tree, nil when it has none.
    public func keyframeTree(ofShot shot: Int) -> Int? { units.keyframeTree(ofShot: shot) }

    /// The keyframe set (its index among the plan's sets) and local frame that sample keyframe
    /// `position` of tree `tree`.
    public func keyframeOwner(tree: Int, position: Int) -> (set: Int, localFrame: Int) {
        let owner = units.keyframeTrees[tree].owner(ofPosition: position)
        return (units.keyframeUnit(tree: tree, set: owner.set), owner.localFrame)
    }

    /// The unit index of a stage's task.
    /// Units are laid out as keyframe sets, then chunks, then seams (see `init`), so every
    /// stage's task is found by arithmetic; anything else falls back to a search.
    public func unit(_ stage: TaskStage, _ index: Int) -> Int? {
        let keyframeSets = units.keyframeSetCount
        let guess: Int? =
            switch stage {
            case .keyframes: index
            case .chunks: keyframeSets + index
            case .seams: keyframeSets + chunks.count + index
            case .decode: keyframeSets + chunks.count + seams.count + index
            }
        if let guess, units.indices.contains(guess), units[guess].stage == stage, units[guess].index == index { return guess }
        return units.firstIndex { $0.stage == stage && $0.index == index }
    }

    /// The whole-frame region of frames `frames`.
    public func fullFrame(_ frames: Range<Int>) -> Region {
        Region(frames: frames, rows: 0..<grid.height, columns: 0..<grid.width)
    }
}

/// A plan's chunks, computed from its windows and tiles instead of stored, so a plan's size
/// does not grow with the number of chunks (a 2-hour 1080p plan has 50,000).
public struct PlanChunks: RandomAccessCollection, Sendable, Hashable, Codable {
    let windows: [Range<Int>]
    let tileRows: [Range<Int>]
    let tileColumns: [Range<Int>]
    /// The window range of each shot, in order.
    let shotWindows: [Range<Int>]

    public var startIndex: Int { 0 }
    public var endIndex: Int { windows.count * tiles }
    var tiles: Int { tileRows.count * tileColumns.count }

    public subscript(index: Int) -> Chunk {
        precondition(indices.contains(index), "chunk \(index) of \(count)")
        let window = index / tiles, tile = index % tiles
        return Chunk(
            index: index, window: window, tile: tile, shot: shot(ofWindow: window),
            region: Region(
                frames: windows[window], rows: tileRows[tile / tileColumns.count], columns: tileColumns[tile % tileColumns.count]))
    }

    /// The shot a window belongs to (shots hold consecutive windows, in order).
    func shot(ofWindow window: Int) -> Int {
        var low = 0, high = shotWindows.count
        while low < high {
            let middle = (low + high) / 2
            if shotWindows[middle].upperBound <= window { low = middle + 1 } else { high = middle }
        }
        return low < shotWindows.count && shotWindows[low].contains(window) ? low : 0
    }
}

/// The time windows and seams a decode window depends on, as index ranges.
public struct DecodeSpans: Sendable, Hashable, Codable {
    public var windows: Range<Int>
    public var seams: Range<Int>
}

/// A plan's units (keyframe sets, then chunks, then seams) with their dependencies,
/// computed on access from the plan's shape.
public struct PlanUnits: RandomAccessCollection, Sendable, Hashable, Codable {
    let chunks: PlanChunks
    let autoregressive: Bool
    /// The keyframe trees of the shots that have keyframes, in shot order.
    let keyframeTrees: [KeyframeTree]
    /// The unit of each tree's first set; the last entry is the number of keyframe sets.
    let keyframeBases: [Int]
    /// The two windows each seam joins: seam `s`'s are at `2s` and `2s + 1`.
    let seamWindows: [Int]
    /// The windows and seams each decode window's latents are stitched from.
    let decodeSpans: [DecodeSpans]

    public var startIndex: Int { 0 }
    init(chunks: PlanChunks, autoregressive: Bool, keyframeTrees: [KeyframeTree], seamWindows: [Int], decodeSpans: [DecodeSpans]) {
        self.chunks = chunks
        self.autoregressive = autoregressive
        self.keyframeTrees = keyframeTrees
        keyframeBases = keyframeTrees.reduce(into: [0]) { $0.append($0.last! + $1.setCount) }
        self.seamWindows = seamWindows
        self.decodeSpans = decodeSpans
    }

    public var endIndex: Int { keyframeSetCount + chunks.count + seamWindows.count / 2 + decodeSpans.count }

    /// How many keyframe sets the plan has (they are its first units).
    var keyframeSetCount: Int { keyframeBases.last! }

    /// The tree (its index) holding keyframe set `index`, and the set's index in it.
    func keyframeTree(ofSet index: Int) -> (tree: Int, set: Int) {
        precondition(index >= 0 && index < keyframeSetCount, "keyframe set \(index) of \(keyframeSetCount)")
        let tree = keyframeBases.lastIndex { $0 <= index }!
        return (tree, index - keyframeBases[tree])
    }

    /// The index of shot `shot`'s keyframe tree, nil when it has none. Trees are in shot
    /// order: a binary search, as the scheduler asks this of every chunk.
    func keyframeTree(ofShot shot: Int) -> Int? {
        var low = 0, high = keyframeTrees.count
        while low < high {
            let middle = (low + high) / 2
            if keyframeTrees[middle].shot < shot { low = middle + 1 } else { high = middle }
        }
        return low < keyframeTrees.count && keyframeTrees[low].shot == shot ? low : nil
    }

    /// The unit (also its index among the plan's keyframe sets) of set `set` of tree `tree`.
    func keyframeUnit(tree: Int, set: Int) -> Int { keyframeBases[tree] + set }

    /// The keyframe sets (units) whose keyframes fall in `chunk`'s frames.
    func keyframeDependencies(of chunk: Chunk) -> [Int] {
        guard let tree = keyframeTree(ofShot: chunk.shot) else { return [] }
        let owners = keyframeTrees[tree].positions(in: chunk.region.frames).map { keyframeTrees[tree].owner(ofPosition: $0).set }
        return Array(Set(owners)).sorted().map { keyframeUnit(tree: tree, set: $0) }
    }

    public subscript(unit: Int) -> WorkUnit {
        precondition(indices.contains(unit), "unit \(unit) of \(count)")
        let chunkBase = keyframeSetCount
        if unit < chunkBase {
            let (tree, set) = keyframeTree(ofSet: unit)
            let dependencies = keyframeTrees[tree].dependencies(ofSet: set).map { keyframeUnit(tree: tree, set: $0) }
            return WorkUnit(stage: .keyframes, index: unit, dependencies: dependencies)
        }
        if unit < chunkBase + chunks.count {
            let chunk = chunks[unit - chunkBase]
            var dependencies = keyframeDependencies(of: chunk)
            if autoregressive, chunk.window > chunks.shotWindows[chunk.shot].lowerBound {
                dependencies.append(unit - chunks.tiles)
            }
            return WorkUnit(stage: .chunks, index: chunk.index, dependencies: dependencies)
        }
        let seamBase = chunkBase + chunks.count
        if unit >= seamBase + seamWindows.count / 2 {
            let decode = unit - seamBase - seamWindows.count / 2, span = decodeSpans[decode]
            let chunkUnits = (span.windows.lowerBound * chunks.tiles..<span.windows.upperBound * chunks.tiles).map { chunkBase + $0 }
            return WorkUnit(stage: .decode, index: decode, dependencies: chunkUnits + span.seams.map { seamBase + $0 })
        }
        let seam = unit - seamBase
        let dependencies = seamWindows[(2 * seam)..<(2 * seam + 2)].flatMap { window in
            (0..<chunks.tiles).map { chunkBase + window * chunks.tiles + $0 }
        }
        return WorkUnit(stage: .seams, index: seam, dependencies: dependencies)
    }
}

extension Plan {
    /// What must run again when the committed units `tainted` are found wrong: those units and
    /// every committed unit computed from them (transitively), in order (`reopened`); and for
    /// each uncommitted unit, the reopened units it depends on (`waiting`), which it must wait for.
    public func recomputation(of tainted: [Int], committed: Set<Int>) -> (reopened: [Int], waiting: [Int: [Int]]) {
        var bad = Set(tainted.filter { committed.contains($0) })
        var waiting: [Int: [Int]] = [:]
        for unit in units.indices {
            let inputs = units[unit].dependencies.filter(bad.contains)
            guard !inputs.isEmpty else { continue }
            if committed.contains(unit) { bad.insert(unit) } else { waiting[unit] = inputs }
        }
        return (bad.sorted(), waiting)
    }
}
