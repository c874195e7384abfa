import Foundation
import ReelCore

/// The simulated backend's model: a fixed, smooth, moving pattern as a pure function of the
/// global coordinate, at a cost of `stepMilliseconds` per step spent sleeping (not spinning),
/// so dozens of workers can share a small machine and timings measure the farm.
///
/// Its prediction does not depend on the noisy state, so the Euler sampler's last step
/// (to `t = 0`) returns the pattern exactly, with pinned voxels set to their values; the
/// sampler therefore sleeps through the steps and writes that answer once, which keeps a
/// worker's CPU per task to a few microseconds per kilobyte.
public enum SimulatedDenoiser {
    /// The clean value at a global coordinate: `0.6·sin(0.05x + 0.07y + 0.1f + 2.1c)`.
    public static func content(frame: Int, channel: Int, y: Int, x: Int) -> Float {
        let row = 0.07 * Double(y) + 0.1 * Double(frame) + 2.1 * Double(channel)
        let column = 0.05 * Double(x)
        return Float(sin(row) * (0.6 * cos(column)) + cos(row) * (0.6 * sin(column)))
    }

    /// The pattern over `frames` (global indices) × channels × the region's rows and columns,
    /// in the chunk's local layout; one sine per row and per column, not per voxel.
    public static func content(region: Region, frames: [Int], channels: Int) -> [Float] {
        let columnSines = region.columns.map { 0.6 * sin(0.05 * Double($0)) }
        let columnCosines = region.columns.map { 0.6 * cos(0.05 * Double($0)) }
        let width = columnSines.count
        var out = [Float](repeating: 0, count: frames.count * channels * region.rows.count * width)
        out.withUnsafeMutableBufferPointer { buffer in
            var index = 0
            for frame in frames {
                for channel in 0..<channels {
                    for y in region.rows {
                        let row = 0.07 * Double(y) + 0.1 * Double(frame) + 2.1 * Double(channel)
                        let (rowSine, rowCosine) = (sin(row), cos(row))
                        for x in 0..<width {
                            buffer[index + x] = Float(rowSine * columnCosines[x] + rowCosine * columnSines[x])
                        }
                        index += width
                    }
                }
            }
        }
        return out
    }

    /// Samples a simulated task: `steps` sleeps of `stepMilliseconds` (reporting progress after
    /// each), then the pattern with pinned frames set to their conditioning values.
    static func sample(_ work: ChunkWork, steps: Int, pinned: [Int: [Float]], progress: () -> Void) -> [Float] {
        progress()
        for _ in 0..<steps {
            if work.stepMilliseconds > 0 { Thread.sleep(forTimeInterval: Double(work.stepMilliseconds) / 1000) }
            progress()
        }
        var out = content(region: work.region, frames: work.frames ?? Array(work.region.frames), channels: work.grid.channels)
        let perFrame = work.grid.channels * work.region.rows.count * work.region.columns.count
        for (frame, values) in pinned where values.count == perFrame {
            out.replaceSubrange((frame * perFrame)..<((frame + 1) * perFrame), with: values)
        }
        return out
    }
}
