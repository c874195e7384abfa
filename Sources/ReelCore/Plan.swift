/// One unit of sampling work: a space-time cuboid of the latent grid.
public struct Chunk: Sendable, Hashable, Codable {
    /// Position in `Plan.chunks`; also the task's index inside its stage.
    public var index: Int
    /// Which time window (0-based, in time order) this chunk belongs to.
    public var window: Int
    /// Which spatial tile (row-major over the tile grid) this chunk covers.
    public var tile: Int
    public var region: Region

    public init(index: Int, window: Int, tile: Int, region: Region) {
        self.index = index
        self.window = window
        self.tile = tile
        self.region = region
    }
}

/// The result of planning a job: the latent grid and the overlapping chunks that cover it.
public struct Plan: Sendable, Hashable, Codable {
    public var grid: LatentGrid
    /// Time windows, in order; every chunk's frames are one of these.
    public var windows: [Range<Int>]
    /// Row ranges of the spatial tiles (one full-height range when not tiled).
    public var tileRows: [Range<Int>]
    /// Column ranges of the spatial tiles (one full-width range when not tiled).
    public var tileColumns: [Range<Int>]
    /// Chunks ordered by window, then tile row, then tile column.
    public var chunks: [Chunk]

    public init(grid: LatentGrid, windows: [Range<Int>], tileRows: [Range<Int>], tileColumns: [Range<Int>]) {
        self.grid = grid
        self.windows = windows
        self.tileRows = tileRows
        self.tileColumns = tileColumns
        var chunks: [Chunk] = []
        for (w, frames) in windows.enumerated() {
            for (r, rows) in tileRows.enumerated() {
                for (c, columns) in tileColumns.enumerated() {
                    chunks.append(
                        Chunk(
                            index: chunks.count, window: w, tile: r * tileColumns.count + c,
                            region: Region(frames: frames, rows: rows, columns: columns)))
                }
            }
        }
        self.chunks = chunks
    }

    /// Sampled voxels over video voxels: the compute spent twice on overlaps (1.0 = none).
    public var redundancy: Double {
        let sampled = chunks.reduce(0) { $0 + $1.region.frames.count * $1.region.rows.count * $1.region.columns.count }
        return Double(sampled) / Double(grid.frames * grid.height * grid.width)
    }

    /// Chunks whose time window contains `frame`.
    public func windowsCovering(frame: Int) -> [Int] {
        windows.indices.filter { windows[$0].contains(frame) }
    }
}
