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
    /// The clean value at a global coordinate: `0.6·sin(0.05x + 0.07y + 0.1f + 2.1c)`, computed
    /// by angle addition from the sines of its three parts, exactly as ``content(region:frames:channels:)``
    /// computes it (so both give the same bits).
    public static func content(frame: Int, channel: Int, y: Int, x: Int) -> Float {
        let phase = 0.1 * Double(frame) + 2.1 * Double(channel)
        let (rowSine, rowCosine) = addAngles(sin(0.07 * Double(y)), cos(0.07 * Double(y)), sin(phase), cos(phase))
        let column = 0.05 * Double(x)
        return Float(rowSine) * Float(0.6 * cos(column)) + Float(rowCosine) * Float(0.6 * sin(column))
    }

    /// (sin, cos) of a + b from the sines and cosines of a and b.
    @inline(__always)
    private static func addAngles(_ sineA: Double, _ cosineA: Double, _ sineB: Double, _ cosineB: Double) -> (Double, Double) {
        (sineA * cosineB + cosineA * sineB, cosineA * cosineB - sineA * sineB)
    }

    /// The pattern over `frames` (global indices) × channels × the region's rows and columns,
    /// in the chunk's local layout. Sines are taken per row, per column and per frame and
    /// channel, never per voxel; the inner loop is two multiplies and an add per voxel, in
    /// single precision (vectorized).
    public static func content(region: Region, frames: [Int], channels: Int) -> [Float] {
        let columnSines = region.columns.map { Float(0.6 * sin(0.05 * Double($0))) }
        let columnCosines = region.columns.map { Float(0.6 * cos(0.05 * Double($0))) }
        let rowSines = region.rows.map { sin(0.07 * Double($0)) }
        let rowCosines = region.rows.map { cos(0.07 * Double($0)) }
        let width = columnSines.count, height = rowSines.count
        let count = frames.count * channels * height * width
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            columnSines.withUnsafeBufferPointer { sines in
                columnCosines.withUnsafeBufferPointer { cosines in
                    var index = 0
                    for frame in frames {
                        for channel in 0..<channels {
                            let phase = 0.1 * Double(frame) + 2.1 * Double(channel)
                            let (phaseSine, phaseCosine) = (sin(phase), cos(phase))
                            for row in 0..<height {
                                let (rowSine, rowCosine) = addAngles(rowSines[row], rowCosines[row], phaseSine, phaseCosine)
                                let (a, b) = (Float(rowSine), Float(rowCosine))
                                for x in 0..<width { out[index + x] = a * cosines[x] + b * sines[x] }
                                index += width
                            }
                        }
                    }
                }
            }
            initialized = count
        }
    }

    /// Samples a simulated task: `steps` sleeps of `stepMilliseconds` (reporting progress after
    /// each), then the pattern with pinned frames set to their conditioning values.
    static func sample(_ work: ChunkWork, steps: Int, pinned: [Int: [Float]], progress: () -> Void, stepped: () -> Void = {}) -> [Float] {
        progress()
        for _ in 0..<steps {
            if work.stepMilliseconds > 0 { Thread.sleep(forTimeInterval: Double(work.stepMilliseconds) / 1000) }
            progress()
            stepped()
        }
        var out = content(region: work.region, frames: work.frames ?? Array(work.region.frames), channels: work.grid.channels)
        let perFrame = work.grid.channels * work.region.rows.count * work.region.columns.count
        for (frame, values) in pinned where values.count == perFrame {
            out.replaceSubrange((frame * perFrame)..<((frame + 1) * perFrame), with: values)
        }
        return out
    }
}
