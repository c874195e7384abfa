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
    /// Rolling mode: the keyframes sampled jointly for this shot.
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
    public var grid: LatentGrid
    public var mode: ConsistencyMode
    /// Time windows in order (all shots); every chunk's frames are one of these.
    public var windows: [Range<Int>]
    /// Row ranges of the spatial tiles (one full-height range when not tiled).
    public var tileRows: [Range<Int>]
    /// Column ranges of the spatial tiles (one full-width range when not tiled).
    public var tileColumns: [Range<Int>]
    /// Chunks ordered by window, then tile row, then tile column.
    public var chunks: [Chunk]
    public var shots: [ShotPlan]
    public var seams: [Seam]
    /// Every task: keyframe sets (one per shot), then chunks, then seams.
    public var units: [WorkUnit]

    public init(
        grid: LatentGrid, mode: ConsistencyMode = .independent, shots: [ShotPlan], windows: [Range<Int>], tileRows: [Range<Int>],
        tileColumns: [Range<Int>], seams: [Seam] = []
    ) {
        self.grid = grid
        self.mode = mode
        self.shots = shots
        self.windows = windows
        self.tileRows = tileRows
        self.tileColumns = tileColumns
        self.seams = seams
        var chunks: [Chunk] = []
        for (w, frames) in windows.enumerated() {
            let shot = shots.firstIndex { $0.windows.contains(w) } ?? 0
            for (r, rows) in tileRows.enumerated() {
                for (c, columns) in tileColumns.enumerated() {
                    chunks.append(
                        Chunk(
                            index: chunks.count, window: w, tile: r * tileColumns.count + c, shot: shot,
                            region: Region(frames: frames, rows: rows, columns: columns)))
                }
            }
        }
        self.chunks = chunks
        let tiles = tileRows.count * tileColumns.count
        let keyframeUnits = mode == .rolling ? shots.indices.filter { !shots[$0].keyframes.isEmpty } : []
        var units = keyframeUnits.map { WorkUnit(stage: .keyframes, index: $0, dependencies: []) }
        let chunkBase = units.count
        for chunk in chunks {
            var dependencies: [Int] = []
            if let keyframeUnit = keyframeUnits.firstIndex(of: chunk.shot) { dependencies.append(keyframeUnit) }
            if mode == .autoregressive, chunk.window > shots[chunk.shot].windows.lowerBound {
                dependencies.append(chunkBase + chunk.index - tiles)
            }
            units.append(WorkUnit(stage: .chunks, index: chunk.index, dependencies: dependencies))
        }
        for seam in seams {
            let dependencies = [seam.before, seam.after].flatMap { window in (0..<tiles).map { chunkBase + window * tiles + $0 } }
            units.append(WorkUnit(stage: .seams, index: seam.index, dependencies: dependencies))
        }
        self.units = units
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

    /// The unit index of a stage's task.
    /// Units are laid out as keyframe sets, then chunks, then seams (see `init`), so chunks
    /// and seams are found by arithmetic; anything else falls back to a search.
    public func unit(_ stage: TaskStage, _ index: Int) -> Int? {
        let keyframeSets = units.prefix { $0.stage == .keyframes }.count
        let guess: Int? =
            switch stage {
            case .keyframes: units.prefix(keyframeSets).firstIndex { $0.index == index }
            case .chunks: keyframeSets + index
            case .seams: keyframeSets + chunks.count + index
            }
        if let guess, units.indices.contains(guess), units[guess].stage == stage, units[guess].index == index { return guess }
        return units.firstIndex { $0.stage == stage && $0.index == index }
    }

    /// The whole-frame region of frames `frames`.
    public func fullFrame(_ frames: Range<Int>) -> Region {
        Region(frames: frames, rows: 0..<grid.height, columns: 0..<grid.width)
    }
}
