import ReelCore

/// Turns a validated spec into a plan of overlapping chunks on the latent grid. Pure.
public enum Planner {
    /// Plans `spec`: time windows of `chunkFrames` latent frames, optional spatial tiles.
    public static func plan(_ spec: JobSpec) -> Plan {
        let grid = spec.grid
        let windows = split(length: grid.frames, window: spec.chunkFrames, overlap: spec.overlap)
        let rows =
            spec.tileHeight > 0
            ? split(length: grid.height, window: spec.tileHeight, overlap: spec.tileOverlap) : [0..<grid.height]
        let columns =
            spec.tileWidth > 0
            ? split(length: grid.width, window: spec.tileWidth, overlap: spec.tileOverlap) : [0..<grid.width]
        return Plan(grid: grid, windows: windows, tileRows: rows, tileColumns: columns)
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
}
