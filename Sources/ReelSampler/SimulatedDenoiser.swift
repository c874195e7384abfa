import Foundation
import ReelCore

/// The simulated backend's model: a fixed, smooth, moving pattern as a pure function of the
/// global coordinate, at a cost of `stepMilliseconds` per call spent sleeping (not spinning),
/// so dozens of workers can share a small machine and timings measure the farm.
public struct SimulatedDenoiser: Denoiser {
    public let region: Region
    public let frames: [Int]
    public let channels: Int
    public let stepMilliseconds: Int

    public init(region: Region, frames: [Int]? = nil, channels: Int, stepMilliseconds: Int) {
        self.region = region
        self.frames = frames ?? Array(region.frames)
        self.channels = channels
        self.stepMilliseconds = stepMilliseconds
    }

    /// The clean value at a global coordinate.
    public static func content(frame: Int, channel: Int, y: Int, x: Int) -> Float {
        Float(0.6 * sin(0.05 * Double(x) + 0.07 * Double(y) + 0.1 * Double(frame) + 2.1 * Double(channel)))
    }

    public mutating func predictClean(_ x: [Float], t: Double, into prediction: inout [Float]) {
        if stepMilliseconds > 0 { Thread.sleep(forTimeInterval: Double(stepMilliseconds) / 1000) }
        var index = 0
        for frame in frames {
            for channel in 0..<channels {
                for y in region.rows {
                    for x in region.columns {
                        prediction[index] = Self.content(frame: frame, channel: channel, y: y, x: x)
                        index += 1
                    }
                }
            }
        }
    }
}
