/// The shape of a video's latent tensor: frames × channels × height × width, row-major in
/// that order (planar channels, like a real model's latent).
public struct LatentGrid: Sendable, Hashable, Codable {
    public var frames: Int
    public var channels: Int
    public var height: Int
    public var width: Int

    public init(frames: Int, channels: Int, height: Int, width: Int) {
        self.frames = frames
        self.channels = channels
        self.height = height
        self.width = width
    }

    /// Number of latent values in the whole video.
    public var voxelCount: Int { frames * channels * height * width }
    /// Number of latent values in one frame.
    public var voxelsPerFrame: Int { channels * height * width }
}

/// A half-open cuboid of the latent grid in global coordinates (all channels included).
public struct Region: Sendable, Hashable, Codable, CustomStringConvertible {
    public var frames: Range<Int>
    public var rows: Range<Int>
    public var columns: Range<Int>

    public init(frames: Range<Int>, rows: Range<Int>, columns: Range<Int>) {
        self.frames = frames
        self.rows = rows
        self.columns = columns
    }

    /// The local tensor shape of this region with `channels` channels.
    public func localGrid(channels: Int) -> LatentGrid {
        LatentGrid(frames: frames.count, channels: channels, height: rows.count, width: columns.count)
    }

    public var description: String {
        "t[\(frames.lowerBound),\(frames.upperBound)) y[\(rows.lowerBound),\(rows.upperBound)) x[\(columns.lowerBound),\(columns.upperBound))"
    }
}
